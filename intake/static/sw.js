/*
 * The service worker, served as /sw.js with INTAKE_PRECACHE set in front of this text
 * (intake.filling.offline_views): a version, and the hashed URLs of the shell's assets.
 *
 * - install: the assets of this version go into their own cache, after the first page
 *   is usable (the browser installs a worker once the page has loaded);
 * - activate: caches of other versions are deleted; a filling page kept for offline use
 *   stays in "intake-fillings" (it names its own hashed assets, kept until it is done);
 * - fetch: pages go to the network first; without one, a filling's address is answered
 *   with its offline page, kept when the worker last opened it online, and the outbox
 *   with its page (neither holds an answer); a new intake (/intake/new) is answered
 *   with the blank consent page kept in "intake-start-<version>" (the page keeps it, and
 *   fetches it again when a form's version, the user or the assets change). Nothing else is cached: no answer, no case,
 *   no list ever reaches Cache Storage;
 * - sync: Background Sync sends the outbox (static/js/offline-store.js) for the user
 *   signed in now; the page does the same on load and on `online` without it.
 */
/* global INTAKE_PRECACHE, IntakeOffline */
'use strict';

var ASSETS = 'intake-assets-' + INTAKE_PRECACHE.version;
var FILLINGS = 'intake-fillings';
var storeUrl = INTAKE_PRECACHE.assets.filter(function (u) { return u.indexOf('/offline-store.') > 0; })[0];
if (storeUrl) importScripts(storeUrl);

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(ASSETS).then(function (cache) { return cache.addAll(INTAKE_PRECACHE.assets); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf('intake-assets-') === 0 && name !== ASSETS;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

var FILL = /^\/fill\/([A-Za-z0-9_-]{16,64})(\/offline)?$/;
var START = /^\/offline\/intake\/(consent|first_contact)$/;

self.addEventListener('fetch', function (event) {
  var req = event.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf('/static/') === 0) {
    // Hashed names never change: the cache first (any version's), then the network.
    event.respondWith(caches.match(req).then(function (hit) { return hit || fetch(req); }));
    return;
  }
  if (req.mode === 'navigate' && url.pathname === '/outbox') {
    event.respondWith(fetch(req).catch(function () {
      return caches.match('/outbox').then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  // A new intake without a connection: its blank pages, kept by the page (app-shell.js).
  if (req.mode === 'navigate' && (url.pathname === '/intake/new' || START.test(url.pathname))) {
    var kept = url.pathname === '/intake/new' ? '/offline/intake/consent' : url.pathname;
    event.respondWith(fetch(req).catch(function () {
      return caches.match(kept, { ignoreSearch: true }).then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  var filling = FILL.exec(url.pathname);
  if (req.mode === 'navigate' && filling) {
    var offline = '/fill/' + filling[1] + '/offline';
    event.respondWith(fetch(req).catch(function () {
      return caches.open(FILLINGS).then(function (cache) { return cache.match(offline); })
        .then(function (hit) { return hit || Response.error(); });
    }));
  }
});

function sendOutbox() {
  return fetch('/offline/key', { credentials: 'same-origin' }).then(function (r) {
    if (!r.ok) return null;
    return r.json().then(function (key) { return IntakeOffline.send(key.owner, key.csrf, true); });
  });
}

self.addEventListener('sync', function (event) {
  if (event.tag === 'intake-outbox') event.waitUntil(sendOutbox());
});
