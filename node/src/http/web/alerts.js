// The Alerts page, live: new alerts arrive over server-sent events
// (/alerts/stream: the API's stream, authenticated by the session cookie) and are added
// at the top of the table without a reload. A static script, so the page's
// Content-Security-Policy can keep allowing this origin's scripts only.
const table = document.querySelector('#alerts tbody');
if (table && window.EventSource) {
  const events = new EventSource('/alerts/stream');
  events.addEventListener('alert', (e) => {
    const a = JSON.parse(e.data);
    const row = document.createElement('tr');
    row.className = 'unread live';
    const cell = (text, muted) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (muted) {
        const span = document.createElement('span');
        span.className = 'muted';
        span.textContent = muted;
        td.append(document.createElement('br'), span);
      }
      return td;
    };
    const when = new Date(a.created_ms).toISOString().slice(0, 16).replace('T', ' ');
    const matched = a.watches.map((w) => 'watch entry ' + w).concat(a.cases.map((c) => 'case ' + c)).join(', ');
    row.append(
      cell(when),
      cell(a.author_name, a.type + ' on ' + a.channel),
      cell(a.value, a.kind),
      cell(matched),
      cell('new — reload to mark seen'),
    );
    table.prepend(row);
    const none = document.getElementById('no-alerts');
    if (none) none.remove();
  });
}
