/*
 * A filling without a connection (templates/forms/offline.html): one page at a time,
 * judged as the server judges (relevance, required, types, constraints, with expr.js),
 * every keystroke kept on the phone, encrypted; "Put in the outbox" seals it.
 * A new intake can start here too (its blank pages kept by the phone): the ids are
 * made here, the consent leads to the intake form, and both are sealed together.
 * The server judges the whole filling again when it arrives.
 */
(function () {
  'use strict';

  var INTEGER = /^[+-]?\d{1,13}$/;
  var DECIMAL = /^[+-]?(\d{1,13}([.,]\d{0,9})?|[.,]\d{1,9})$/;
  var DATE = /^\d{4}-\d{2}-\d{2}$/;

  function parse(text) { try { return JSON.parse(text); } catch (e) { return null; } }

  // Not asked: the question or something around it on its page is hidden.
  function hiddenWithin(element, container) {
    for (var node = element; node && node !== container; node = node.parentElement) {
      if (node.hidden) return true;
    }
    return false;
  }

  // The client ids of a new intake: from the address, or made now for its consent.
  function startIds(step) {
    var found = /^#([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{16,64})$/.exec(window.location.hash);
    if (found) return { consent: found[1], intake: found[2] };
    if (step !== 'consent' || !window.crypto.randomUUID) return null;
    return { consent: window.crypto.randomUUID(), intake: window.crypto.randomUUID() };
  }

  function setUp(form) {
    var store = window.IntakeOffline;
    var fill = window.IntakeForm;
    var meta = parse(form.dataset.meta);
    // A step of a new intake started on this phone (intake.cases.intake_offline).
    var start = meta && meta.start;
    var ids = null;
    if (start) {
      ids = startIds(start.step);
      if (!ids) { window.location.replace(start.back); return; }
      meta.client_id = start.step === 'consent' ? ids.consent : ids.intake;
      // The ids ride in the address: a reload, online or not, finds the same filling.
      window.history.replaceState(null, '', start.page + suffix());
    }
    var logic = parse(form.dataset.logic) || {};
    var checks = parse(form.dataset.checks) || {};
    var pages = Array.prototype.slice.call(form.querySelectorAll('.offline-page'));
    var review = form.querySelector('.offline-review');
    var status = document.getElementById('offline-status');
    var summary = document.getElementById('error-summary');
    var current = 0;
    var saving = null;

    function suffix() { return '#' + ids.consent + '.' + ids.intake; }

    function asked() {
      var values = fill.answers(form, logic);
      return pages.filter(function (page) {
        var rule = page.dataset.relevant ? parse(page.dataset.relevant) : null;
        return !rule || window.IntakeExpr.evaluate(rule, values, logic.today) === true;
      });
    }

    function show(index) {
      current = index;
      pages.forEach(function (page, i) { page.hidden = i !== index; });
      var onReview = index >= pages.length;
      review.hidden = !onReview;
      form.querySelector('[data-offline=next]').hidden = onReview;
      form.querySelector('[data-offline=finish]').hidden = !onReview;
      var list = asked();
      var progress = document.getElementById('offline-progress');
      var number = onReview ? list.length : list.indexOf(pages[index]) + 1;
      progress.textContent = progress.dataset.template.replace('%(number)s', number).replace('%(total)s', list.length);
      fill.update(form, logic);
    }

    function save() {
      window.clearTimeout(saving);
      return store.saveDraft(meta, fill.values(form), current).catch(function () {});
    }

    function error(wrapper, message) {
      var id = wrapper.id.replace(/-field$/, '') + '-error';
      var p = document.createElement('p');
      p.className = 'field-error';
      p.id = id;
      p.setAttribute('lang', document.documentElement.lang);
      p.textContent = message;
      wrapper.insertBefore(p, wrapper.querySelector('input,select,textarea,.option') || null);
      var item = document.createElement('li');
      var link = document.createElement('a');
      link.href = '#' + wrapper.id;
      link.textContent = message;
      item.appendChild(link);
      summary.querySelector('ul').appendChild(item);
    }

    function judge(container) {
      container.querySelectorAll('.field-error').forEach(function (p) { p.remove(); });
      summary.querySelector('ul').textContent = '';
      var values = fill.answers(form, logic);
      var wrong = 0;
      container.querySelectorAll('[data-key]').forEach(function (wrapper) {
        var check = checks[wrapper.dataset.name];
        if (!check || hiddenWithin(wrapper, container)) return;
        var raw = fill.raw(form, wrapper.dataset.key);
        var value = fill.valueOf(form, wrapper.dataset.key, check.type);
        var message = '';
        var needed = check.required || (check.required_when && window.IntakeExpr.evaluate(check.required_when, values, logic.today) === true);
        if (raw === null) {
          if (needed) message = check.type === 'acknowledge' ? form.dataset.confirm : form.dataset.required;
        } else if (check.type === 'integer' && !INTEGER.test(raw)) {
          message = form.dataset.integer;
        } else if (check.type === 'decimal' && !DECIMAL.test(raw)) {
          message = form.dataset.decimal;
        } else if (check.type === 'date' && !DATE.test(raw)) {
          message = form.dataset.date;
        } else if (check.constraint && window.IntakeExpr.evaluate(check.constraint, values, logic.today, value) === false) {
          message = check.message || form.dataset.notAllowed;
        }
        if (message) { wrong += 1; error(wrapper, message); }
      });
      summary.hidden = !wrong;
      if (wrong) summary.focus();
      return !wrong;
    }

    function move(step) {
      var list = asked();
      var at = current >= pages.length ? list.length : list.indexOf(pages[current]);
      if (step > 0 && current < pages.length && !judge(pages[current])) return;
      if (step < 0 && at <= 0 && start && start.back) { save().then(function () { window.location.assign(start.back + suffix()); }); return; }
      var next = at + step;
      show(next >= list.length ? pages.length : pages.indexOf(list[Math.max(0, next)]));
      save();
      var heading = form.querySelector('.offline-page:not([hidden]) h2, .offline-review:not([hidden]) h2');
      if (heading) { heading.setAttribute('tabindex', '-1'); heading.focus(); }
      window.scrollTo(0, 0);
    }

    function finish() {
      var list = asked();
      var ok = list.every(function (page) { return judge(page); });
      if (!ok) { show(pages.indexOf(list.filter(function (p) { return p.querySelector('.field-error'); })[0])); return; }
      var button = form.querySelector('[data-offline=finish]');
      button.disabled = true;
      window.clearTimeout(saving);
      var done = start ? finishStep() : store.finish(meta, fill.pairs(form)).then(function () {
        if (window.caches) caches.open('intake-fillings').then(function (c) { c.delete('/fill/' + meta.client_id + '/offline'); });
        return '/outbox';
      });
      done.then(function (next) { window.location.assign(next); }).catch(function () {
        button.disabled = false;
        status.textContent = status.dataset.failed || '';
      });
    }

    // A new intake: a finished consent is kept (encrypted) for the intake form, which
    // seals both as one record; a refused consent is sealed alone, as online it ends there.
    function finishStep() {
      var pairs = fill.pairs(form);
      if (start.step === 'consent') {
        var consent = { client_id: ids.consent, pairs: pairs, language: meta.language };
        return store.saveDraft(meta, fill.values(form), pages.length, { pairs: pairs, language: meta.language }).then(function () {
          if (fill.answers(form, logic)[start.gate] === true) return start.next + suffix();
          return store.finishIntake(meta, consent, null).then(function () { return '/outbox'; });
        });
      }
      return store.loadDraft({ client_id: ids.consent, owner: meta.owner }).then(function (consent) {
        if (!consent || !consent.pairs) return start.back + suffix();
        var given = { client_id: ids.consent, pairs: consent.pairs, language: consent.language };
        return store.finishIntake(meta, given, pairs).then(function () { return '/outbox'; });
      });
    }

    // Nothing here is ever posted: Enter in a field must not send the page anywhere.
    form.addEventListener('submit', function (event) { event.preventDefault(); });
    form.addEventListener('input', function () { window.clearTimeout(saving); saving = window.setTimeout(save, 300); });
    form.addEventListener('change', save);
    form.querySelectorAll('button[type=submit]').forEach(function (button) {
      // Adding and removing entries asks the server; without it, they wait.
      button.type = 'button';
      button.addEventListener('click', function () { status.textContent = form.dataset.noRows; });
    });
    form.addEventListener('click', function (event) {
      var action = event.target.closest && event.target.closest('[data-offline]');
      if (!action) return;
      var what = action.dataset.offline;
      if (what === 'next') move(1);
      else if (what === 'back') move(-1);
      else if (what === 'finish') finish();
    });

    store.loadDraft(meta).then(function (saved) {
      if (saved) fill.restore(form, saved.values);
      var list = asked();
      var first = saved && typeof saved.page === 'number' ? saved.page : pages.indexOf(list[0]);
      show(Math.min(Math.max(first, 0), pages.length));
    }).catch(function () { show(pages.indexOf(asked()[0])); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = document.querySelector('[data-offline-form]');
    if (form && window.IntakeOffline && window.IntakeForm) setUp(form);
  });
})();
