// Summary sheet: paper choice and print button (the sheet prints without this file too).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("print-button");
    if (button) { button.addEventListener("click", function () { window.print(); }); }
    document.querySelectorAll('input[name="paper"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        document.documentElement.className = "paper-" + radio.value;
      });
    });
  });
})();
