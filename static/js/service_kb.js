// The ticket page: "Use" on a suggested script step or article puts its text into the message box (one click),
// where the agent may still edit it before sending.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.kb-use");
  if (!button) return;
  const box = document.getElementById("id_text");
  if (!box) return;
  box.value = box.value ? `${box.value}\n${button.dataset.text}` : button.dataset.text;
  box.focus();
});
