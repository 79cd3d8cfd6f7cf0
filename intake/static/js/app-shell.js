/*
 * On every page: the service worker, the outbox sent when a connection is there (page
 * load, `online`, Background Sync where the browser has it), persistent storage asked
 * for, and a sign-out that warns about unsent records and forgets only the user's key.
 */
(function () {
  'use strict';

  var offline = window.IntakeOffline;
  var signOut = document.querySelector('form[action="/logout"]');
  if (!offline || !window.indexedDB || !window.crypto || !window.crypto.subtle) return;

  if ('serviceWorker' in navigator) {
    // After the page is usable: the precache never competes with the first page.
    window.addEventListener('load', function () {
      navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(function () {});
    });
  }

  function token() {
    try {
      return JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
    } catch (error) { return ''; }
  }

  function sendNow(force) {
    if (!signOut || !navigator.onLine) return Promise.resolve();
    return offline.refresh().then(function (key) {
      return offline.send(key.owner, token() || key.csrf, force === true).then(function () {
        document.dispatchEvent(new CustomEvent('intake:outbox'));
      });
    }).catch(function () {});
  }
  window.IntakeSendOutbox = sendNow;

  if (signOut) {
    sendNow();
    window.addEventListener('online', function () { sendNow(true); });
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().then(function (granted) {
        document.documentElement.dataset.persisted = granted ? 'yes' : 'no';
      });
    }
    if ('serviceWorker' in navigator && window.SyncManager) {
      navigator.serviceWorker.ready.then(function (reg) {
        return reg.sync.register('intake-outbox');
      }).catch(function () {});
    }
    signOut.addEventListener('submit', function (event) {
      if (signOut.dataset.ready) return;
      event.preventDefault();
      offline.owner().then(function (owner) {
        return offline.outbox().then(function (records) {
          var unsent = records.filter(function (r) {
            return r.owner === owner && r.state !== 'sent';
          }).length;
          var warning = document.getElementById('sign-out-warning');
          if (unsent && !warning) {
            warning = document.createElement('p');
            warning.id = 'sign-out-warning';
            warning.className = 'alert error';
            warning.setAttribute('role', 'alert');
            warning.textContent = signOut.dataset.unsent.replace('%(num)s', unsent);
            signOut.parentNode.insertBefore(warning, signOut.nextSibling);
            return false;
          }
          return true;
        });
      }).catch(function () { return true; }).then(function (go) {
        if (!go) return;
        signOut.dataset.ready = 'true';
        offline.forget().catch(function () {}).then(function () { signOut.submit(); });
      });
    });
  }
})();
