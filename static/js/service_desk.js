// The service desk works from the keyboard: Alt+S puts the cursor in the calling number, Alt+N in the new
// ticket's first field, Ctrl+Enter (or Cmd+Enter) takes the ticket from anywhere in its form.
document.addEventListener("keydown", (event) => {
  const key = event.key.toLowerCase();
  if (event.altKey && key === "s") {
    const phone = document.getElementById("desk-phone");
    if (phone) { event.preventDefault(); phone.focus(); phone.select(); }
  } else if (event.altKey && key === "n") {
    const first = document.querySelector("#desk-ticket-form select, #desk-ticket-form input:not([type=hidden])");
    if (first) { event.preventDefault(); first.focus(); }
  } else if ((event.ctrlKey || event.metaKey) && key === "enter") {
    const form = event.target.closest && event.target.closest("#desk-ticket-form");
    if (form) { event.preventDefault(); form.requestSubmit(); }
  }
});
