// Calendar feeds: the "copy" buttons put the feed address on the clipboard (kept out of the page for the CSP).
document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var input = document.getElementById(button.dataset.copy);
    input.select();
    var done = function () { button.textContent = button.dataset.done; };
    if (navigator.clipboard) { navigator.clipboard.writeText(input.value).then(done, function () {}); }
    else if (document.execCommand("copy")) { done(); }
  });
});
