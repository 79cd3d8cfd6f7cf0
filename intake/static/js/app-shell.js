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

  // A worker who may start an intake keeps its blank pages (and the outbox page) for a
  // start without a connection, fetched again only when their version changes: a form
  // published anew, another user, other assets. Others get a refusal and keep nothing.
  function keepStartPages() {
    if (!window.caches || !navigator.onLine) return Promise.resolve();
    return fetch('/offline/intake', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (list) {
        if (!list || !list.version) return null;
        // A start without a connection saves as it goes: this user's key must be here.
        offline.ready(list.owner).catch(function () {});
        var name = 'intake-start-' + list.version;
        var pages = list.pages.concat(['/outbox']);
        return caches.open(name).then(function (cache) {
          // Every page, not the cache's name: a fetch cut short by leaving the page
          // leaves the name behind without them.
          return Promise.all(pages.map(function (url) { return cache.match(url); })).then(function (hits) {
            if (hits.every(Boolean)) return null;
            return cache.addAll(pages);
          }).then(function () { return caches.keys(); }).then(function (names) {
            return Promise.all(names.filter(function (old) {
              return old.indexOf('intake-start-') === 0 && old !== name;
            }).map(function (old) { return caches.delete(old); }));
          });
        });
      }).catch(function () {});
  }

  if (signOut) {
    sendNow();
    window.addEventListener('load', keepStartPages);
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
