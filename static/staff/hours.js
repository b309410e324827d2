// Weekly hours: choosing another department in the list opens its page (no inline handler, for the CSP).
(function () {
  var select = document.getElementById("dept-select");
  if (!select) { return; }
  select.addEventListener("change", function () { window.location = select.value; });
})();
