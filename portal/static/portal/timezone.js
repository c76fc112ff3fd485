// The browser's time zone into the form's hidden field, so that the tracking page shows times in it.
// Without JavaScript the field stays empty and the pages show UTC.
document.querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
  try {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    input.value = "";
  }
});
