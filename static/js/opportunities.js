/* Kanban drag and drop: dropping a card on a column submits the card's own "move to" form with that
   stage (the server checks the move). Without this script the select-and-submit form does the same. */
(function () {
  "use strict";

  var dragged = null;

  function columnOf(node) {
    while (node && !(node.classList && node.classList.contains("kanban-column"))) {
      node = node.parentNode;
    }
    return node;
  }

  function allowed(card, column) {
    return card && column && (" " + card.dataset.stages + " ").indexOf(" " + column.dataset.stage + " ") !== -1;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".kanban-card[draggable='true']");
    if (!card) { return; }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.pk);
  });

  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (allowed(dragged, column)) {
      event.preventDefault();
      column.classList.add("drop-target");
    }
  });

  document.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column) { column.classList.remove("drop-target"); }
  });

  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!allowed(dragged, column)) { return; }
    event.preventDefault();
    column.classList.remove("drop-target");
    var form = dragged.querySelector("form.card-move");
    if (form) {
      form.querySelector("select[name='stage']").value = column.dataset.stage;
      form.submit();
    }
    dragged = null;
  });

  document.addEventListener("dragend", function () { dragged = null; });
})();
