/*
 * What the phone keeps, and how (window.IntakeOffline).
 *
 * IndexedDB "intake-offline":
 *   meta    device id, the server's public sealing key, the user signed in last
 *   keys    per user: the AES-GCM key of their fillings in progress (non-extractable,
 *           derived by the server from the user and this device; deleted at sign-out)
 *   drafts  fillings in progress: owner id, client id, form, time, and the answers
 *           encrypted with that user's key (AES-GCM, the client id as associated data)
 *   outbox  finished fillings sealed to the server's public key (ECDH P-256, HKDF,
 *           AES-GCM): this phone cannot read them back; each waits to be sent once
 *           (a new intake started here: its consent and intake form as one record)
 * Nothing here names a person: a record shows its form, time, size and state.
 */
(function (root) {
  'use strict';

  var DB = 'intake-offline';
  var INFO = 'intake offline record v1';
  var encoder = new TextEncoder();

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  var opened = null;
  function db() {
    if (!opened) {
      var req = root.indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        var d = req.result;
        d.createObjectStore('meta');
        d.createObjectStore('keys');
        d.createObjectStore('drafts', { keyPath: 'client_id' });
        d.createObjectStore('outbox', { keyPath: 'client_id' });
      };
      opened = request(req);
    }
    return opened;
  }

  function store(name, mode) {
    return db().then(function (d) { return d.transaction(name, mode || 'readonly').objectStore(name); });
  }
  function get(name, key) { return store(name).then(function (s) { return request(s.get(key)); }); }
  function put(name, value, key) {
    return store(name, 'readwrite').then(function (s) {
      return request(key === undefined ? s.put(value) : s.put(value, key));
    });
  }
  function del(name, key) { return store(name, 'readwrite').then(function (s) { return request(s.delete(key)); }); }
  function all(name) { return store(name).then(function (s) { return request(s.getAll()); }); }

  function b64(bytes) {
    var text = '';
    new Uint8Array(bytes).forEach(function (b) { text += String.fromCharCode(b); });
    return root.btoa(text);
  }
  function unb64(text) {
    return Uint8Array.from(root.atob(text), function (c) { return c.charCodeAt(0); });
  }
  function randomId() { return b64(root.crypto.getRandomValues(new Uint8Array(18))).replace(/\+/g, '-').replace(/\//g, '_'); }

  function deviceId() {
    return get('meta', 'device').then(function (id) {
      if (id) return id;
      id = randomId();
      return put('meta', id, 'device').then(function () { return id; });
    });
  }

  // Called on every page loaded online: who is signed in, the key to seal to, a fresh token.
  function refresh() {
    return fetch('/offline/key', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) throw new Error('no key'); return r.json(); })
      .then(function (key) {
        return put('meta', { kid: key.kid, key: key.key }, 'sealing')
          .then(function () { return put('meta', key.owner, 'owner'); })
          .then(function () { return key; });
      });
  }

  function userKey(owner) {
    return get('keys', owner).then(function (key) {
      if (key) return key;
      return deviceId().then(function (device) {
        return fetch('/offline/device-key?device=' + encodeURIComponent(device), { credentials: 'same-origin' });
      }).then(function (r) { if (!r.ok) throw new Error('offline'); return r.json(); })
        .then(function (answer) {
          if (answer.owner !== owner) throw new Error('another user');
          return root.crypto.subtle.importKey('raw', unb64(answer.key), 'AES-GCM', false, ['encrypt', 'decrypt']);
        }).then(function (imported) { return put('keys', imported, owner).then(function () { return imported; }); });
    });
  }

  // `extra`: what a step of a new intake keeps for the next (a finished consent's answers).
  function saveDraft(meta, values, page, extra) {
    return userKey(meta.owner).then(function (key) {
      var iv = root.crypto.getRandomValues(new Uint8Array(12));
      var plain = encoder.encode(JSON.stringify(Object.assign({}, extra || {}, { values: values, page: page })));
      return root.crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv, additionalData: encoder.encode(meta.client_id) }, key, plain)
        .then(function (ct) {
          return put('drafts', {
            client_id: meta.client_id, owner: meta.owner, form: meta.title,
            updated: new Date().toISOString(), iv: iv, ct: new Uint8Array(ct)
          });
        });
    });
  }

  function loadDraft(meta) {
    return get('drafts', meta.client_id).then(function (row) {
      if (!row || row.owner !== meta.owner) return null;
      return userKey(meta.owner).then(function (key) {
        return root.crypto.subtle.decrypt({ name: 'AES-GCM', iv: row.iv, additionalData: encoder.encode(meta.client_id) }, key, row.ct);
      }).then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
    });
  }

  function seal(payload) {
    return get('meta', 'sealing').then(function (server) {
      if (!server) throw new Error('no sealing key yet');
      var subtle = root.crypto.subtle;
      var curve = { name: 'ECDH', namedCurve: 'P-256' };
      return Promise.all([
        subtle.importKey('raw', unb64(server.key), curve, false, []),
        subtle.generateKey(curve, true, ['deriveBits'])
      ]).then(function (keys) {
        var ephemeral = keys[1];
        return subtle.deriveBits({ name: 'ECDH', public: keys[0] }, ephemeral.privateKey, 256)
          .then(function (bits) { return subtle.importKey('raw', bits, 'HKDF', false, ['deriveKey']); })
          .then(function (secret) {
            return subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(server.kid), info: encoder.encode(INFO) },
              secret, { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
          }).then(function (aes) {
            var iv = root.crypto.getRandomValues(new Uint8Array(12));
            return Promise.all([
              subtle.encrypt({ name: 'AES-GCM', iv: iv, additionalData: encoder.encode(server.kid) }, aes, encoder.encode(JSON.stringify(payload))),
              subtle.exportKey('raw', ephemeral.publicKey)
            ]).then(function (done) {
              return { v: 1, kid: server.kid, epk: b64(done[1]), iv: b64(iv), ct: b64(done[0]) };
            });
          });
      });
    });
  }

  // A finished filling: sealed, into the outbox, and the filling in progress forgotten.
  function finish(meta, pairs) {
    var payload = { client_id: meta.client_id, owner: meta.owner, answers: pairs, stage: meta.stage, sealed_at: new Date().toISOString() };
    return seal(payload).then(function (sealed) {
      var body = JSON.stringify(sealed);
      return put('outbox', {
        client_id: meta.client_id, owner: meta.owner, form: meta.title, finished: new Date().toISOString(),
        size: body.length, state: 'waiting', tries: 0, next_try: 0, body: body, url: ''
      });
    }).then(function () { return del('drafts', meta.client_id); });
  }

  // A new intake started on this phone: the consent and, when it was given, the intake
  // form, sealed as one record (the server opens the case from both, in that order).
  function finishIntake(meta, consent, pairs) {
    var payload = {
      client_id: consent.client_id, owner: meta.owner, answers: consent.pairs, language: consent.language,
      intake: pairs ? { client_id: meta.client_id, answers: pairs } : null, sealed_at: new Date().toISOString()
    };
    return seal(payload).then(function (sealed) {
      var body = JSON.stringify(sealed);
      return put('outbox', {
        client_id: consent.client_id, owner: meta.owner, form: meta.title, finished: new Date().toISOString(),
        size: body.length, state: 'waiting', tries: 0, next_try: 0, body: body, url: '', path: '/offline/intake/records'
      });
    }).then(function () { return del('drafts', consent.client_id); })
      .then(function () { return pairs ? del('drafts', meta.client_id) : null; });
  }

  var BACKOFF_MAX = 15 * 60 * 1000;

  // Send the owner's waiting records; a resend is the same bytes (the server knows them).
  // One round at a time in a page: a second trigger waits for the first.
  var sending = Promise.resolve();
  function send(owner, token, force) {
    sending = sending.then(function () { return sendRound(owner, token, force); }, function () {
      return sendRound(owner, token, force);
    });
    return sending;
  }

  function sendRound(owner, token, force) {
    return all('outbox').then(function (records) {
      var now = Date.now();
      var mine = records.filter(function (r) {
        return r.owner === owner && (r.state === 'waiting' || r.state === 'failed') && (force || r.next_try <= now);
      });
      return mine.reduce(function (chain, record) {
        return chain.then(function () { return sendOne(record, token); });
      }, Promise.resolve());
    });
  }

  function sendOne(record, token) {
    return fetch(record.path || '/offline/records', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token },
      body: record.body
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        if (r.status === 200) { record.state = 'sent'; record.url = answer.url || ''; delete record.body; }
        else if (r.status === 409) { record.state = 'conflict'; record.url = answer.url || ''; }
        else if (r.status === 422) { record.state = 'attention'; record.url = answer.url || ''; }
        else throw new Error('status ' + r.status);
      });
    }).catch(function () {
      record.state = 'failed';
      record.tries += 1;
      record.next_try = Date.now() + Math.min(BACKOFF_MAX, 2000 * Math.pow(2, record.tries));
    }).then(function () {
      // Another page (or the service worker) may have sent it meanwhile: sent stays sent.
      return get('outbox', record.client_id).then(function (now) {
        if (now && now.state === 'sent' && record.state !== 'sent') return null;
        return put('outbox', record);
      });
    });
  }

  // Sign-out: the user's key goes (their fillings in progress stay, unreadable until
  // they sign in again); nothing in the outbox is ever deleted here.
  function forget() {
    return store('keys', 'readwrite').then(function (s) { return request(s.clear()); })
      .then(function () { return del('meta', 'owner'); });
  }

  root.IntakeOffline = {
    refresh: refresh, owner: function () { return get('meta', 'owner'); }, saveDraft: saveDraft,
    ready: function (owner) { return userKey(owner).then(function () { return true; }); },
    loadDraft: loadDraft, finish: finish, finishIntake: finishIntake, send: send, outbox: function () { return all('outbox'); },
    drafts: function () { return all('drafts'); }, forget: forget
  };
})(self);
