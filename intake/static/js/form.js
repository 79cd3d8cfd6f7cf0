/*
 * Live show/hide of questions while a form is filled, submit-once buttons, and a
 * visible, announced state when a page could not be saved (no connection, busy server).
 *
 * Each question's wrapper carries its `relevant` expression as the JSON AST
 * the server compiled (data-relevant); window.IntakeExpr evaluates it. Nothing
 * here parses or runs code from the page. The server stays authoritative: it
 * re-checks relevance and drops answers to questions that are not asked, so
 * this script only spares the person questions that do not apply.
 */
(function () {
  'use strict';

  var INTEGER = /^[+-]?\d{1,13}$/;
  var DECIMAL = /^[+-]?(\d{1,13}(\.\d{0,9})?|\.\d{1,9})$/;

  function parseJson(text) {
    try { return JSON.parse(text); } catch (error) { return null; }
  }

  function inputsOf(form, key) {
    var found = [];
    var elements = form.elements;
    for (var i = 0; i < elements.length; i += 1) {
      if (elements[i].name === key) found.push(elements[i]);
    }
    return found;
  }

  // The typed value of one question, as the server's coercion would read it.
  function valueOf(form, key, type) {
    var inputs = inputsOf(form, key);
    if (!inputs.length) return null;
    if (type === 'select_multiple') {
      var chosen = inputs.filter(function (i) { return i.checked; })
        .map(function (i) { return i.value; });
      return chosen.length ? chosen : null;
    }
    var raw = null;
    inputs.forEach(function (input) {
      if (input.type === 'radio' || input.type === 'checkbox') {
        if (input.checked) raw = input.value;
      } else if (input.value.trim() !== '') {
        raw = input.value.trim();
      }
    });
    if (raw === null) return null;
    if (type === 'yes_no' || type === 'acknowledge') return raw === 'yes';
    if (type === 'integer') return INTEGER.test(raw) ? parseInt(raw, 10) : null;
    if (type === 'decimal') {
      var text = raw.indexOf('.') < 0 ? raw.replace(',', '.') : raw;
      return DECIMAL.test(text) ? parseFloat(text) : null;
    }
    return raw;
  }

  function wrappers(form) {
    return Array.prototype.slice.call(form.querySelectorAll('[data-key]'));
  }

  function isTopLevel(wrapper) {
    return !wrapper.parentElement.closest('[data-row]');
  }

  function rowValues(form, row) {
    var values = {};
    row.querySelectorAll('[data-key]').forEach(function (wrapper) {
      values[wrapper.dataset.name] = wrapper.hidden ? null
        : valueOf(form, wrapper.dataset.key, wrapper.dataset.type);
    });
    return values;
  }

  // Answers the expressions read: other pages' (from the server) and this page's,
  // with calculations made; a hidden question counts as unanswered, as on the server.
  function answers(form, logic) {
    var values = {};
    var context = logic.context || {};
    Object.keys(context).forEach(function (name) { values[name] = context[name]; });
    wrappers(form).filter(isTopLevel).forEach(function (wrapper) {
      var name = wrapper.dataset.name;
      if (wrapper.dataset.type === 'repeat') {
        values[name] = wrapper.hidden ? null : Array.prototype.map.call(
          wrapper.querySelectorAll('[data-row]'),
          function (row) { return rowValues(form, row); });
      } else if (wrapper.dataset.type !== 'note') {
        values[name] = wrapper.hidden ? null : valueOf(form, wrapper.dataset.key, wrapper.dataset.type);
      }
    });
    (logic.calculations || []).forEach(function (pair) {
      values[pair[0]] = window.IntakeExpr.evaluate(pair[1], values, logic.today);
    });
    return values;
  }

  function update(form, logic) {
    // Hiding one question can make another irrelevant: repeat until nothing moves.
    for (var pass = 0; pass < 10; pass += 1) {
      var values = answers(form, logic);
      var changed = false;
      wrappers(form).forEach(function (wrapper) {
        if (!wrapper.dataset.relevant) return;
        var ast = parseJson(wrapper.dataset.relevant);
        var row = wrapper.parentElement.closest('[data-row]');
        var scope = values;
        if (row) {
          scope = Object.assign({}, values, rowValues(form, row));
        }
        var shown = ast !== null && window.IntakeExpr.evaluate(ast, scope, logic.today) === true;
        if (wrapper.hidden === shown) {
          wrapper.hidden = !shown;
          changed = true;
        }
      });
      if (!changed) return;
    }
  }

  function setUp(root) {
    // The logic rides on the form as data: htmx drops <script> blocks from swapped content.
    var form = root.querySelector('#fill-form');
    if (!form || !form.dataset.logic || !window.IntakeExpr || form.dataset.wired) return;
    form.dataset.wired = 'true';
    var logic = parseJson(form.dataset.logic) || {};
    var refresh = function () { update(form, logic); };
    form.addEventListener('input', refresh);
    form.addEventListener('change', refresh);
    refresh();
  }

  function focusAfterSwap(root) {
    var target = root.querySelector('#error-summary') || root.querySelector('h1');
    if (target) {
      target.focus();
      window.scrollTo(0, 0);
    }
  }

  // A second tap on a submit-once form is dropped while the first is on its way;
  // the server would recognise the repeat anyway, but the person should not wait twice.
  // The buttons come back as soon as that request ends without a new page (see below).
  var lastSubmit = null;

  function buttonsOf(form) {
    return form.querySelectorAll('button[type=submit]');
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.closest || !form.closest('#filling')) return;
    lastSubmit = { form: form, submitter: event.submitter || null };
    if (!form.hasAttribute('data-submit-once')) return;
    if (form.dataset.sent) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    form.dataset.sent = 'true';
    // Disabled after the browser (or htmx) has read the pressed button's value.
    window.setTimeout(function () {
      if (!form.dataset.sent) return;
      buttonsOf(form).forEach(function (button) { button.disabled = true; });
    }, 0);
  }, true);

  function statusOf(element) {
    var filling = element && element.closest ? element.closest('#filling') : null;
    return filling ? filling.querySelector('#connection-status') : null;
  }

  function say(status, kind, text) {
    status.classList.remove('pending', 'problem');
    if (kind) status.classList.add(kind);
    status.querySelector('.connection-message').textContent = text;
    status.querySelector('.connection-retry').hidden = kind !== 'problem';
  }

  // The request ended without a new page: nothing may stay disabled or "on its way".
  function release(element) {
    var filling = element && element.closest ? element.closest('#filling') : null;
    if (!filling) return;
    filling.removeAttribute('aria-busy');
    filling.querySelectorAll('form').forEach(function (form) {
      delete form.dataset.sent;
      buttonsOf(form).forEach(function (button) { button.disabled = false; });
    });
  }

  document.addEventListener('htmx:beforeRequest', function (event) {
    var status = statusOf(event.detail.elt);
    if (!status) return;
    status.closest('#filling').setAttribute('aria-busy', 'true');
    say(status, 'pending', status.dataset.pending);
  });

  function failed(kind) {
    return function (event) {
      var status = statusOf(event.detail.elt);
      release(event.detail.elt);
      if (!status) return;
      var code = event.detail.xhr ? event.detail.xhr.status : 0;
      var text = status.dataset[kind];
      if (kind === 'failed' && code === 503) text = status.dataset.busy;
      say(status, 'problem', text);
      status.querySelector('.connection-retry').focus();
    };
  }
  // No connection on Next or Back: go on with the page kept for offline use, if there is
  // one (a service worker answers it from its cache); otherwise say so, with a retry.
  function noConnection(event) {
    failed('offline')(event);
    if (goOffline && navigator.serviceWorker && navigator.serviceWorker.controller) goOffline();
  }
  document.addEventListener('htmx:sendError', noConnection);
  document.addEventListener('htmx:timeout', noConnection);
  document.addEventListener('htmx:responseError', function (event) {
    // 409 and 422 come with a page that says what to do (swapped in by htmx).
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    if (code === 409 || code === 422) return;
    failed('failed')(event);
  });

  document.addEventListener('click', function (event) {
    var retry = event.target.closest && event.target.closest('.connection-retry');
    if (!retry || !lastSubmit || !document.contains(lastSubmit.form)) return;
    var submitter = lastSubmit.submitter;
    if (submitter && document.contains(submitter) && lastSubmit.form.requestSubmit) {
      lastSubmit.form.requestSubmit(submitter);
    } else if (lastSubmit.form.requestSubmit) {
      lastSubmit.form.requestSubmit();
    }
  });

  // Back from another page (the page cache) with buttons left disabled: give them back.
  window.addEventListener('pageshow', function () { release(document.querySelector('#filling > *')); });

  // The raw text (or the first checked value) of one question, null when unanswered.
  function raw(form, key) {
    var found = null;
    inputsOf(form, key).forEach(function (input) {
      if (input.type === 'radio' || input.type === 'checkbox') {
        if (input.checked && found === null) found = input.value;
      } else if (input.value.trim() !== '') {
        found = input.value.trim();
      }
    });
    return found;
  }

  // Every question's values by key (an unanswered one as []), to keep on the phone.
  function values(form) {
    var kept = {};
    wrappers(form).forEach(function (wrapper) {
      var type = wrapper.dataset.type;
      if (type === 'note' || type === 'repeat') return;
      kept[wrapper.dataset.key] = inputsOf(form, wrapper.dataset.key).filter(function (input) {
        return (input.type !== 'radio' && input.type !== 'checkbox') || input.checked;
      }).map(function (input) { return input.value; }).filter(function (value) { return value !== ''; });
    });
    return kept;
  }

  function restore(form, kept) {
    Object.keys(kept || {}).forEach(function (key) {
      var chosen = kept[key] || [];
      inputsOf(form, key).forEach(function (input) {
        if (input.type === 'radio' || input.type === 'checkbox') input.checked = chosen.indexOf(input.value) >= 0;
        else input.value = chosen.length ? chosen[0] : '';
      });
    });
  }

  // As posted: (name, value) pairs, and ("name", "") for a question left empty.
  function pairs(form) {
    var kept = values(form);
    var found = [];
    Object.keys(kept).forEach(function (key) {
      if (!kept[key].length) found.push([key, '']);
      kept[key].forEach(function (value) { found.push([key, value]); });
    });
    return found;
  }

  window.IntakeForm = {
    answers: answers, update: update, raw: raw, valueOf: valueOf, values: values,
    restore: restore, pairs: pairs
  };

  // Online: every keystroke is also kept on the phone (encrypted), and the page for
  // going on without a connection is fetched once, to be there when it is needed.
  var goOffline = null;
  var cached = {};

  function cacheOfflinePage(url) {
    if (!window.caches || !navigator.onLine || cached[url]) return;
    cached[url] = true;
    fetch(url, { credentials: 'same-origin' }).then(function (response) {
      if (!response.ok) return null;
      return response.clone().text().then(function (html) {
        var assets = html.match(/\/static\/[A-Za-z0-9_./-]+/g) || [];
        return caches.open('intake-fillings').then(function (cache) {
          return cache.put(url, response).then(function () { return cache.addAll(assets); });
        });
      });
    }).catch(function () {});
  }

  function keepLocally(root) {
    var host = root.matches && root.matches('[data-client-id]') ? root : root.querySelector('[data-client-id]');
    var store = window.IntakeOffline;
    goOffline = null;
    if (!host || !store || !window.crypto || !window.crypto.subtle) return;
    var form = host.id === 'fill-form' ? host : null;
    var page = parseInt(host.dataset.pageIndex, 10);
    // The signed-in user as the server rendered the page: never the last one the phone
    // remembers (on a shared phone that may be someone else).
    var meta = { client_id: host.dataset.clientId, title: host.dataset.title || document.title, owner: host.dataset.owner };
    if (!meta.owner) return;
    var loaded = false;
    var saved = store.loadDraft(meta).then(function (before) { loaded = true; return before; })
      .catch(function () { return null; });
    var timer = null;
    function save() {
      window.clearTimeout(timer);
      return saved.then(function (before) {
        // Until what the phone holds could be read, writing would lose the other pages.
        if (!loaded) return null;
        var merged = Object.assign({}, before ? before.values : {}, form ? values(form) : {});
        saved = Promise.resolve({ values: merged });
        return store.saveDraft(meta, merged, page);
      }).catch(function () {});
    }
    if (form) {
      form.addEventListener('input', function () { window.clearTimeout(timer); timer = window.setTimeout(save, 300); });
      form.addEventListener('change', save);
    }
    save();
    var offlineUrl = '/fill/' + meta.client_id + '/offline';
    cacheOfflinePage(offlineUrl);
    cacheOfflinePage('/outbox');
    goOffline = function () { save().then(function () { window.location.assign(offlineUrl); }); };
  }

  document.addEventListener('DOMContentLoaded', function () { setUp(document); keepLocally(document); });
  // htmx swapped in a new page of the form: wire it, and move focus to its top
  // (or its errors) so a screen reader starts reading there. htmx:load fires on
  // the new content itself (afterSwap is lost with the element an outerHTML swap removes).
  document.addEventListener('htmx:load', function (event) {
    var root = event.detail && event.detail.elt;
    if (!root || root.id !== 'filling') return;
    setUp(root);
    keepLocally(root);
    focusAfterSwap(root);
  });
})();
