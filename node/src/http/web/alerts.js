// The Alerts page, live: new alerts arrive over server-sent events
// (/alerts/stream: the API's stream, authenticated by the session cookie) and are added
// at the top of the table without a reload, in the page's language (the
// words come with the page, in the table's data-words) and the reader's
// time. A static script, so the page's Content-Security-Policy can keep
// allowing this origin's scripts only.
const table = document.querySelector('#alerts');
const body = table && table.querySelector('tbody');
if (body && window.EventSource) {
  const words = JSON.parse(table.dataset.words || '{}');
  const word = (map, key) => (words[map] && words[map][key]) || key;
  const fill = (template, values) => Object.entries(values).reduce((t, [k, v]) => t.replace('{' + k + '}', v), template || '');
  const two = (n) => String(n).padStart(2, '0');
  const local = (ms) => {
    const d = new Date(ms);
    return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + ' ' + two(d.getHours()) + ':' + two(d.getMinutes());
  };
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
    const matched = a.watches.map((w) => fill(words.watch, { id: w }))
      .concat(a.cases.map((c) => fill(words.case, { id: c })))
      .concat((a.ours || []).map(() => words.ours)).join(', ');
    row.append(
      cell(local(a.created_ms)),
      cell(a.author_name, fill(words.on, { type: word('types', a.type), channel: word('channels', a.channel) })),
      cell(a.value, word('kinds', a.kind)),
      cell(matched),
      cell(words.fresh || ''),
    );
    body.prepend(row);
    const none = document.getElementById('no-alerts');
    if (none) none.remove();
  });
}
