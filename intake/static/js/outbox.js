/*
 * The outbox page: what waits on this phone (form, time, size, state; never a name),
 * sent on demand and by itself (static/js/app-shell.js). Another user's records are
 * only counted: they cannot be opened or sent from this account.
 */
(function () {
  'use strict';

  function text(template, name, value) { return template.replace('%(' + name + ')s', value); }

  function draw(box, owner, records) {
    var mine = records.filter(function (r) { return r.owner === owner; });
    var others = records.filter(function (r) { return r.owner !== owner && r.state !== 'sent'; }).length;
    var waiting = mine.filter(function (r) { return r.state !== 'sent'; });
    var table = document.getElementById('outbox-table');
    var body = table.querySelector('tbody');
    body.textContent = '';
    waiting.sort(function (a, b) { return a.finished < b.finished ? -1 : 1; }).forEach(function (record) {
      var row = document.createElement('tr');
      var when = new Date(record.finished);
      var cells = [
        record.form,
        when.toLocaleString(document.documentElement.lang),
        text(box.dataset.kb, 'size', Math.max(1, Math.round(record.size / 1024))),
        box.dataset['state' + record.state.charAt(0).toUpperCase() + record.state.slice(1)] || record.state
      ];
      var labels = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) { return th.textContent; });
      cells.forEach(function (value, i) {
        var cell = document.createElement('td');
        cell.setAttribute('data-label', labels[i]);
        cell.textContent = value;
        if (i === 3 && record.url && record.state !== 'waiting' && record.state !== 'failed') {
          var link = document.createElement('a');
          link.href = record.url;
          link.textContent = ' ' + box.dataset.open;
          cell.appendChild(link);
        }
        row.appendChild(cell);
      });
      row.dataset.state = record.state;
      body.appendChild(row);
    });
    table.hidden = !waiting.length;
    document.getElementById('outbox-status').textContent = waiting.length ? '' : box.dataset.empty;
    var note = document.getElementById('outbox-others');
    note.hidden = !others;
    note.textContent = others ? text(box.dataset.others, 'num', others) : '';
  }

  function refresh(box) {
    return window.IntakeOffline.outbox().then(function (records) { draw(box, box.dataset.owner, records); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var box = document.getElementById('outbox');
    if (!box || !window.IntakeOffline) return;
    refresh(box);
    document.addEventListener('intake:outbox', function () { refresh(box); });
    document.getElementById('outbox-send').addEventListener('click', function () {
      (window.IntakeSendOutbox ? window.IntakeSendOutbox(true) : Promise.resolve()).then(function () { refresh(box); });
    });
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().then(function (granted) {
        var warning = document.getElementById('outbox-persist');
        warning.hidden = granted;
        warning.textContent = granted ? '' : box.dataset.persistRefused;
      });
    }
  });
})();
