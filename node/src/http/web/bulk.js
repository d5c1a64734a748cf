// The bulk-check page: load values from a file, and filter the results.
// A static script (not inline handlers), so the page's Content-Security-Policy
// can allow scripts from this origin only.
const file = document.getElementById('file');
if (file) {
  file.addEventListener('change', () => {
    const f = file.files[0];
    if (f) f.text().then(t => { document.getElementById('values').value = t; });
  });
}
const show = document.getElementById('show');
if (show) {
  show.addEventListener('change', () => {
    for (const r of document.querySelectorAll('tr[data-status]')) {
      r.hidden = show.value !== 'all' && r.dataset.status !== show.value;
    }
  });
}
