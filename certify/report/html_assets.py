"""The inline stylesheet and script of report.html (one self-contained file, no network)."""

from __future__ import annotations

# Verdict colours: red to green, grey for not run; glyphs too, so colour is never the only cue.
COLOURS = {
    "failed": "#c62828",
    "incomplete": "#8e24aa",
    "not_run": "#8d8d8d",
    "degraded": "#f2a900",
    "waived": "#7cb342",
    "certified": "#2e7d32",
}
GLYPHS = {
    "failed": "✗",
    "incomplete": "…",
    "not_run": "–",
    "degraded": "!",
    "waived": "w",
    "certified": "✓",
}

CSS = """
:root{--fg:#1d1d1f;--muted:#5f6368;--line:#d9dce1;--bg:#fff;--panel:#f6f7f9}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0;padding:0 24px 48px}
header{display:flex;flex-wrap:wrap;align-items:center;gap:16px;padding:16px 0;
border-bottom:1px solid var(--line)}
h1{font-size:20px;margin:0}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:16px 0 6px}
.badge{font-weight:700;padding:4px 12px;border-radius:4px;color:#fff}
.badge.pass{background:#2e7d32}.badge.fail{background:#c62828}
.meta{color:var(--muted);font-size:12px}
.counts{display:flex;gap:8px;flex-wrap:wrap;margin:8px 0}
.chip{display:inline-flex;align-items:center;gap:6px;padding:2px 10px;border-radius:12px;
background:var(--panel);border:1px solid var(--line);cursor:pointer;user-select:none}
.chip.off{opacity:.35}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px}
ul.reasons{margin:6px 0;padding-left:20px}ul.reasons li{margin:2px 0;word-break:break-word}
.scroll{overflow:auto;max-width:100%;border:1px solid var(--line);border-radius:4px}
table{border-collapse:collapse}
table.heat th,table.heat td{border:1px solid #fff;padding:0;text-align:center;white-space:nowrap}
table.heat thead th{background:var(--panel);font-weight:600;font-size:11px;padding:2px 4px}
table.heat tbody th{background:var(--panel);font-weight:600;font-size:11px;padding:2px 6px;
text-align:left}
table.heat th.dim{color:var(--muted);font-style:italic}
td.c{width:22px;min-width:22px;height:22px;color:#fff;font-size:12px;cursor:pointer}
td.c:focus,td.c.sel{outline:3px solid #1a73e8;outline-offset:-3px}
td.c.hide{opacity:.12}
td.e{background:#fbfbfc}
table.list{width:100%;font-size:13px}
table.list th,table.list td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;
vertical-align:top}
table.list th{background:var(--panel);position:sticky;top:0}
td.v{font-weight:600;white-space:nowrap}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
#detail{position:sticky;bottom:0;background:var(--panel);border:1px solid var(--line);
border-radius:6px;padding:8px 12px;margin-top:12px;max-height:45vh;overflow:auto}
#detail[hidden]{display:none}
details>summary{cursor:pointer;font-weight:600;margin:6px 0}
svg text{font:11px system-ui,sans-serif;fill:#444}
.note{color:var(--muted)}
"""

# Builds the detail panel from the embedded JSON with textContent only (reasons are untrusted
# text from test output, so they never become markup).
JS = """
(function(){
  var data = JSON.parse(document.getElementById('cells-data').textContent);
  var panel = document.getElementById('detail');
  var selected = null;
  function el(tag, text, cls){var e=document.createElement(tag);
    if(text!==undefined)e.textContent=text;if(cls)e.className=cls;return e;}
  function show(td){
    var id = td.getAttribute('data-id'), c = data[id];
    if(!c) return;
    if(selected) selected.classList.remove('sel');
    selected = td; td.classList.add('sel');
    panel.textContent = '';
    panel.appendChild(el('h3', id));
    panel.appendChild(el('div', 'tier ' + c.tier + ' \\u2014 verdict ' + c.verdict, 'meta'));
    var t = el('table', undefined, 'list'), head = el('tr');
    ['criterion','verdict','counts','reasons'].forEach(function(h){head.appendChild(el('th', h));});
    t.appendChild(head);
    c.criteria.forEach(function(s){
      var tr = el('tr');
      tr.appendChild(el('td', s[0]));
      var v = el('td', s[1], 'v'); v.style.color = COLOURS[s[1]] || '#000'; tr.appendChild(v);
      tr.appendChild(el('td', s[2]));
      var r = el('td'); var ul = el('ul', undefined, 'reasons');
      s[3].forEach(function(x){ul.appendChild(el('li', x));}); r.appendChild(ul);
      tr.appendChild(r); t.appendChild(tr);
    });
    panel.appendChild(t);
    [['chaos','Chaos'],['load','Load'],['windows','Load under chaos']].forEach(function(k){
      var rows = c[k[0]]; if(!rows) return;
      panel.appendChild(el('h3', k[1]));
      var tt = el('table', undefined, 'list ' + k[0]), hh = el('tr');
      TABLES[k[0]].forEach(function(h){hh.appendChild(el('th', h));});
      tt.appendChild(hh);
      rows.forEach(function(row){
        var tr = el('tr');
        row.forEach(function(x, i){
          var td = el('td', x);
          if(i === 1 && k[0] !== 'windows'){td.className = 'v';
            td.style.color = COLOURS[x.split(' ')[0]] || '#000';}
          tr.appendChild(td);});
        tt.appendChild(tr);});
      panel.appendChild(tt);
    });
    panel.hidden = false;
  }
  var heat = document.getElementById('heat');
  if(heat){
    heat.addEventListener('click', function(e){
      var td = e.target.closest('td.c'); if(td) show(td);});
    heat.addEventListener('keydown', function(e){
      var td = e.target.closest('td.c'); if(td && (e.key==='Enter'||e.key===' ')){show(td);
      e.preventDefault();}});
  }
  document.querySelectorAll('.chip[data-verdict]').forEach(function(chip){
    chip.addEventListener('click', function(){
      chip.classList.toggle('off');
      var off = chip.classList.contains('off'), v = chip.getAttribute('data-verdict');
      document.querySelectorAll('td.c.v-' + v).forEach(function(td){
        td.classList.toggle('hide', off);});
    });
  });
  // report.html#cell=ID opens with that cell's details shown (links from report.md, CI logs)
  if(location.hash.indexOf('#cell=') === 0){
    var want = decodeURIComponent(location.hash.slice(6));
    document.querySelectorAll('td.c').forEach(function(td){
      if(td.getAttribute('data-id') === want) show(td);});
  }
  document.body.setAttribute('data-ready', String(Object.keys(data).length));
})();
"""
