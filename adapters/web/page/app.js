/*
 * Referent web chat: the browser page. Plain ES2020, no framework, no build step.
 *
 * Security: everything the server or the user sends is untrusted text. It reaches the DOM only
 * through textContent / createElement / setAttribute — never through innerHTML or friends.
 * The page runs under `default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'`.
 */
(() => {
  'use strict';

  const MAX_IMAGES = 4;
  const MAX_BYTES = 10 * 1024 * 1024;
  const REQUEST_TIMEOUT_MS = 180000;
  const BAND_TEXT = { strong: 'strong match', good: 'good match', weak: 'weak match' };
  const REPLY_KINDS = new Set(['results', 'info', 'help', 'error']);
  const ACTION_KINDS = new Set(['confirm', 'reject', 'more', 'name']);
  /** Content hashes are hex; anything else never becomes part of a URL. */
  const MEDIA_KEY = /^[A-Za-z0-9_-]{1,128}$/;

  const byId = (id) => document.getElementById(id);
  const conversation = byId('conversation');
  const form = byId('composer');
  const textarea = byId('composer-text');
  const sendButton = byId('send');
  const attachButton = byId('attach');
  const fileInput = byId('file-input');
  const chipList = byId('attachments');
  const composerNotice = byId('composer-notice');
  const demoNotice = byId('demo-notice');
  const sessionInfo = byId('session-info');

  /** Images attached to the message being written: { file, name, url } (url: blob URL of the preview). */
  let attachments = [];
  let requestsInFlight = 0;
  let chatInFlight = false;
  let uid = 0;
  /** The Card object each rendered card element shows. */
  const cardOf = new WeakMap();

  // ---------------------------------------------------------------------------------------------
  // Small DOM helpers

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function str(value) {
    return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  }

  function beginRequest() {
    requestsInFlight += 1;
    document.body.dataset.busy = 'true';
  }

  function endRequest() {
    requestsInFlight = Math.max(0, requestsInFlight - 1);
    if (requestsInFlight === 0) document.body.dataset.busy = 'false';
  }

  function updateSendState() {
    sendButton.disabled = chatInFlight;
    sendButton.setAttribute('aria-busy', chatInFlight ? 'true' : 'false');
  }

  function isNearBottom() {
    return conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < 80;
  }

  function scrollToBottom() {
    conversation.scrollTop = conversation.scrollHeight;
  }

  /** Bring freshly added content into view: its start when it is taller than the view, else the bottom. */
  function reveal(first) {
    if (!first || !first.isConnected) return scrollToBottom();
    const top = first.getBoundingClientRect().top - conversation.getBoundingClientRect().top;
    const below = conversation.scrollHeight - (conversation.scrollTop + top);
    if (below > conversation.clientHeight) conversation.scrollTop += top - 8;
    else scrollToBottom();
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering replies and cards

  function appendPending(text) {
    const node = el('div', 'message message-bot pending', text);
    conversation.appendChild(node);
    return node;
  }

  function errorReply(message) {
    return { kind: 'error', text: message, cards: [] };
  }

  function renderReply(reply) {
    const r = reply && typeof reply === 'object' ? reply : {};
    const kind = REPLY_KINDS.has(r.kind) ? r.kind : 'info';
    const cards = Array.isArray(r.cards) ? r.cards.filter((c) => c && typeof c === 'object') : [];
    const msg = el('article', `message message-bot message-${kind}`);
    msg.setAttribute('aria-label', kind === 'error' ? 'Referent (error)' : 'Referent');
    if (cards.length) msg.classList.add('has-cards');
    const text = str(r.text);
    if (text) msg.appendChild(el('p', 'message-text', text));
    if (r.demoEncoder === true) {
      const tag = el('p', 'demo-tag', 'demo encoder');
      tag.title = 'Results come from the demo encoder, not a real model.';
      msg.appendChild(tag);
    }
    if (cards.length) {
      const grid = el('ul', 'cards');
      grid.setAttribute('role', 'list');
      for (const card of cards) grid.appendChild(renderCard(card));
      msg.appendChild(grid);
    }
    // Buttons under the text (a forget asks first): each sends its value like a card button.
    const actions = Array.isArray(r.actions) ? r.actions.filter((a) => a && typeof a === 'object' && typeof a.value === 'string') : [];
    if (actions.length) {
      const bar = el('div', 'actions reply-actions');
      for (const action of actions) {
        const button = el('button', action.danger === true ? 'action action-danger' : 'action', str(action.label) || 'OK');
        button.type = 'button';
        button.addEventListener('click', () => pressReplyAction(msg, action));
        bar.appendChild(button);
      }
      msg.appendChild(bar);
    }
    return msg;
  }

  function actionKind(action) {
    return ACTION_KINDS.has(action && action.kind) ? action.kind : 'other';
  }

  /** Whether a card's button should be pressable, given the card's current state. */
  function actionEnabled(card, action) {
    if (!action || typeof action.value !== 'string') return false;
    const kind = actionKind(action);
    if ((kind === 'confirm' || kind === 'reject' || kind === 'name') && str(card.verdict)) return false;
    return true;
  }

  function renderCard(card) {
    const item = el('li', 'card');
    const itemId = str(card.itemId);
    item.dataset.itemId = itemId;
    item.tabIndex = -1;
    const titleId = `card-title-${++uid}`;
    item.setAttribute('aria-labelledby', titleId);
    cardOf.set(item, card);

    const title = str(card.title) || 'Unlabelled image';

    const thumb = el('div', 'thumb');
    const img = document.createElement('img');
    img.alt = title;
    img.width = 256;
    img.height = 256;
    img.loading = 'lazy';
    img.decoding = 'async';
    img.addEventListener('error', () => thumb.classList.add('thumb-missing'), { once: true });
    const mediaKey = str(card.mediaKey);
    if (MEDIA_KEY.test(mediaKey)) img.src = `/media/${mediaKey}/thumbnail`;
    else thumb.classList.add('thumb-missing');
    thumb.appendChild(img);
    // Cards that were not searched for (show) carry no band.
    const bandKey = Object.prototype.hasOwnProperty.call(BAND_TEXT, card.band) ? card.band : null;
    if (bandKey) thumb.appendChild(el('span', `band band-${bandKey}`, BAND_TEXT[bandKey]));
    item.appendChild(thumb);

    const body = el('div', 'card-body');
    const titleNode = el('p', 'card-title', title);
    titleNode.id = titleId;
    titleNode.title = title;
    body.appendChild(titleNode);
    const collection = str(card.collection);
    if (collection) body.appendChild(el('p', 'collection', collection));
    const why = str(card.why);
    if (why) body.appendChild(el('p', 'why', why));
    const more = Number(card.more);
    if (Number.isFinite(more) && more > 0) body.appendChild(el('p', 'more', `+${Math.floor(more)} more of this`));
    const verdict = str(card.verdict);
    if (verdict) {
      item.classList.add('has-verdict');
      const v = el('p', 'verdict', verdict);
      if (/^\s*(confirm|named)/i.test(verdict)) v.classList.add('verdict-positive');
      else if (/^\s*reject/i.test(verdict)) v.classList.add('verdict-negative');
      body.appendChild(v);
    }

    const actions = Array.isArray(card.actions) ? card.actions.filter((a) => a && typeof a === 'object') : [];
    if (actions.length) {
      const bar = el('div', 'actions');
      for (const action of actions) {
        const kind = actionKind(action);
        const button = el('button', `action action-${kind}`, str(action.label) || kind);
        button.type = 'button';
        button.dataset.kind = kind;
        button.setAttribute('aria-describedby', titleId);
        button.disabled = !actionEnabled(card, action);
        button.addEventListener('click', () => pressAction(item, action, kind));
        bar.appendChild(button);
      }
      body.appendChild(bar);
    }
    item.appendChild(body);
    return item;
  }

  /** Re-enable (or keep disabled) a card's buttons according to its card data. */
  function restoreCardButtons(item) {
    const card = cardOf.get(item) || {};
    const actions = Array.isArray(card.actions) ? card.actions.filter((a) => a && typeof a === 'object') : [];
    const buttons = item.querySelectorAll('button.action');
    buttons.forEach((button, i) => {
      button.disabled = !actionEnabled(card, actions[i]);
    });
    item.classList.remove('card-busy');
    item.removeAttribute('aria-busy');
  }

  /** Put the replies where the pending indicator was (or at the end) and bring them into view. */
  function showReplies(pending, replies, scroll) {
    const nodes = replies.map(renderReply);
    if (pending && pending.isConnected) {
      if (nodes.length) pending.replaceWith(...nodes);
      else pending.remove();
    } else {
      for (const node of nodes) conversation.appendChild(node);
    }
    if (scroll) reveal(nodes[0]);
  }

  // ---------------------------------------------------------------------------------------------
  // Talking to the server

  class ShownError extends Error {}

  function describe(err) {
    if (err && err.name === 'AbortError') return 'no answer after 3 minutes.';
    return (err && err.message) || String(err);
  }

  async function request(path, init) {
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS) : null;
    let res;
    let body = null;
    try {
      res = await fetch(path, {
        credentials: 'same-origin',
        ...init,
        headers: { accept: 'application/json', ...(init && init.headers) },
        signal: controller ? controller.signal : undefined,
      });
      try {
        body = await res.json();
      } catch (err) {
        if (err && err.name === 'AbortError') throw err;
        body = null;
      }
    } catch (err) {
      throw new ShownError(`Could not reach Referent: ${describe(err)}`);
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (!res.ok) {
      const message = body && typeof body.message === 'string' && body.message.trim()
        ? body.message
        : `Referent answered with an error (HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}).`;
      throw new ShownError(message);
    }
    if (!body || typeof body !== 'object') throw new ShownError('Referent sent an answer this page could not read.');
    return body;
  }

  function postJson(path, payload) {
    return request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  }

  function repliesOf(body) {
    if (!Array.isArray(body.replies)) throw new ShownError('Referent sent an answer this page could not read.');
    return body.replies;
  }

  function errorMessageOf(err) {
    if (err instanceof ShownError) return err.message;
    return `Something went wrong on this page: ${describe(err)}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Session

  async function loadSession() {
    beginRequest();
    const pending = appendPending('connecting…');
    try {
      const session = await request('/api/session', { method: 'GET' });
      if (typeof session.demoNotice === 'string' && session.demoNotice.trim()) {
        demoNotice.textContent = session.demoNotice;
        demoNotice.hidden = false;
      }
      const info = [];
      if (typeof session.model === 'string' && session.model) info.push(`model ${session.model}${session.demoEncoder === true ? ' (demo)' : ''}`);
      if (typeof session.user === 'string' && session.user) info.push(`signed in as ${session.user}`);
      sessionInfo.textContent = info.join(' · ');
      showReplies(pending, session.help && typeof session.help === 'object' ? [session.help] : [], true);
    } catch (err) {
      showReplies(pending, [errorReply(errorMessageOf(err))], true);
    } finally {
      endRequest();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Card buttons

  function findCard(message, itemId) {
    if (!message) return null;
    const wanted = str(itemId);
    for (const node of message.querySelectorAll('.card')) {
      if (node.dataset.itemId === wanted) return node;
    }
    return null;
  }

  async function pressAction(item, action, kind, label) {
    if (item.classList.contains('card-busy') || typeof action.value !== 'string') return;
    const hadFocus = item.contains(document.activeElement);
    item.classList.add('card-busy');
    item.setAttribute('aria-busy', 'true');
    item.querySelectorAll('button.action').forEach((b) => { b.disabled = true; });
    // "More like this" is a search the user wants to see; a verdict should not yank the view away.
    const follow = kind === 'more' || isNearBottom();
    const pending = appendPending(kind === 'more' ? 'searching…' : 'saving…');
    if (follow) scrollToBottom();
    beginRequest();
    try {
      const body = await postJson('/api/action', typeof label === 'string' ? { value: action.value, label } : { value: action.value });
      const replies = repliesOf(body);
      let current = item;
      if (body.card && typeof body.card === 'object') {
        const target = cardOf.get(item) && str(cardOf.get(item).itemId) === str(body.card.itemId)
          ? item
          : findCard(item.closest('.message'), body.card.itemId);
        if (target && target.isConnected) {
          const fresh = renderCard(body.card);
          target.replaceWith(fresh);
          if (target === item) current = fresh;
        }
      }
      if (current === item) restoreCardButtons(item);
      if (body.askLabel && typeof body.askLabel === 'object') askLabel(item, body.askLabel, kind);
      else if (hadFocus && current !== item) {
        const same = current.querySelector(`button.action-${kind}:not(:disabled)`);
        (same || current).focus({ preventScroll: true });
      }
      showReplies(pending, replies, follow);
    } catch (err) {
      restoreCardButtons(item);
      showReplies(pending, [errorReply(errorMessageOf(err))], follow);
    } finally {
      endRequest();
    }
  }

  /** That's it on a photo nobody labelled, or Name this person: an inline field asks for the label, then presses again with it. */
  function askLabel(item, ask, kind) {
    const old = item.querySelector('form.label-form');
    if (old) old.remove();
    const form = el('form', 'label-form');
    const id = `label-${++uid}`;
    const prompt = el('label', 'label-prompt', str(ask.prompt) || 'What does this image show?');
    prompt.htmlFor = id;
    const input = document.createElement('input');
    input.id = id;
    input.type = 'text';
    input.required = true;
    input.maxLength = 200;
    // Name this person asks for a person's name; That's it for a part number or a name.
    input.placeholder = str(ask.submit) === 'Name' ? 'their name' : 'a part number or a name';
    input.autocomplete = 'off';
    const save = el('button', 'action action-label', str(ask.submit) || 'Save label');
    save.type = 'submit';
    form.append(prompt, input, save);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const label = input.value.trim();
      if (!label) return input.focus();
      form.remove();
      pressAction(item, { value: str(ask.value) }, kind, label);
    });
    (item.querySelector('.card-body') || item).appendChild(form);
    input.focus({ preventScroll: true });
  }

  /** A reply's own buttons (Forget / Keep it): the answer replaces the question. */
  async function pressReplyAction(msg, action) {
    const buttons = msg.querySelectorAll('.reply-actions button');
    if (!msg.isConnected || msg.getAttribute('aria-busy') === 'true') return;
    msg.setAttribute('aria-busy', 'true');
    buttons.forEach((b) => { b.disabled = true; });
    const pending = appendPending('working…');
    beginRequest();
    try {
      const body = await postJson('/api/action', { value: action.value });
      const replies = repliesOf(body);
      if (body.update && typeof body.update === 'object') {
        msg.replaceWith(renderReply(body.update));
      } else {
        buttons.forEach((b) => { b.disabled = false; });
        msg.removeAttribute('aria-busy');
      }
      showReplies(pending, replies, isNearBottom());
    } catch (err) {
      buttons.forEach((b) => { b.disabled = false; });
      msg.removeAttribute('aria-busy');
      showReplies(pending, [errorReply(errorMessageOf(err))], true);
    } finally {
      endRequest();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Attachments

  function showNotice(text) {
    composerNotice.textContent = text;
    composerNotice.hidden = !text;
  }

  function formatSize(bytes) {
    if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
    return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  }

  function extensionFor(type) {
    const sub = /^image\/([a-z0-9.+-]+)$/i.exec(type || '');
    if (!sub) return 'png';
    return sub[1].toLowerCase() === 'jpeg' ? 'jpg' : sub[1].toLowerCase().replace(/\+.*$/, '');
  }

  function addFiles(fileList, origin) {
    const files = Array.from(fileList || []).filter(Boolean);
    if (!files.length) return;
    const problems = [];
    let overLimit = 0;
    for (const file of files) {
      const name = file.name || `${origin === 'paste' ? 'pasted' : 'image'}-${++uid}.${extensionFor(file.type)}`;
      if (!/^image\//i.test(file.type || '')) {
        problems.push(`“${name}” is not an image.`);
        continue;
      }
      if (file.size > MAX_BYTES) {
        problems.push(`“${name}” is too large (${formatSize(file.size)}); images must be 10 MB or smaller.`);
        continue;
      }
      if (file.size === 0) {
        problems.push(`“${name}” is empty.`);
        continue;
      }
      const duplicate = attachments.some((a) => a.file === file
        || (a.file.name === file.name && a.file.size === file.size && a.file.lastModified === file.lastModified && file.name));
      if (duplicate) continue;
      if (attachments.length >= MAX_IMAGES) {
        overLimit += 1;
        continue;
      }
      attachments.push({ file, name, url: URL.createObjectURL(file) });
    }
    if (overLimit) problems.push(`At most ${MAX_IMAGES} images per message; ${overLimit === 1 ? '1 image was' : `${overLimit} images were`} not added.`);
    showNotice(problems.join(' '));
    renderChips();
  }

  function removeAttachment(index) {
    const [gone] = attachments.splice(index, 1);
    if (gone) URL.revokeObjectURL(gone.url);
    renderChips();
    const next = chipList.querySelectorAll('.chip-remove')[Math.min(index, attachments.length - 1)];
    (next || textarea).focus();
  }

  function renderChips() {
    const chips = attachments.map((a, index) => {
      const chip = el('li', 'chip');
      const img = document.createElement('img');
      img.src = a.url;
      img.alt = '';
      img.width = 40;
      img.height = 40;
      chip.appendChild(img);
      const label = el('span', 'chip-name', a.name);
      label.title = `${a.name} (${formatSize(a.file.size)})`;
      chip.appendChild(label);
      const remove = el('button', 'chip-remove', '×');
      remove.type = 'button';
      remove.setAttribute('aria-label', `Remove ${a.name}`);
      remove.title = 'Remove';
      remove.addEventListener('click', () => removeAttachment(index));
      chip.appendChild(remove);
      return chip;
    });
    chipList.replaceChildren(...chips);
    chipList.hidden = chips.length === 0;
  }

  function readAsBase64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => {
        const result = typeof reader.result === 'string' ? reader.result : '';
        const comma = result.indexOf(',');
        resolve(comma >= 0 ? result.slice(comma + 1) : '');
      };
      reader.onerror = () => reject(new ShownError(`Could not read “${file.name || 'image'}”: ${describe(reader.error)}`));
      reader.readAsDataURL(file);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  function renderUserMessage(text, sent) {
    const msg = el('article', 'message message-user');
    msg.setAttribute('aria-label', 'You');
    if (text) msg.appendChild(el('p', 'message-text', text));
    if (sent.length) {
      const list = el('ul', 'previews');
      list.setAttribute('role', 'list');
      for (const a of sent) {
        const li = el('li', 'preview');
        const img = document.createElement('img');
        img.src = a.url;
        img.alt = a.name;
        img.title = a.name;
        img.width = 72;
        img.height = 72;
        li.appendChild(img);
        list.appendChild(li);
      }
      msg.appendChild(list);
    }
    return msg;
  }

  function autosize() {
    // An empty box takes its CSS height (Chrome would otherwise size it to a wrapped placeholder).
    if (!textarea.value) {
      textarea.style.height = '';
      return;
    }
    textarea.style.height = 'auto';
    textarea.style.height = `${Math.min(textarea.scrollHeight, 200)}px`;
  }

  async function send() {
    if (chatInFlight) return;
    const text = textarea.value.trim();
    const sent = attachments;
    if (!text && !sent.length) {
      textarea.focus();
      return;
    }
    chatInFlight = true;
    updateSendState();
    beginRequest();
    attachments = [];
    renderChips();
    showNotice('');
    textarea.value = '';
    autosize();
    // The preview blob URLs now belong to the sent message, which keeps showing them.
    conversation.appendChild(renderUserMessage(text, sent));
    const pending = appendPending('searching…');
    scrollToBottom();
    try {
      const images = [];
      for (const a of sent) images.push({ name: a.name, type: a.file.type, data: await readAsBase64(a.file) });
      const body = await postJson('/api/chat', { text, images });
      showReplies(pending, repliesOf(body), true);
    } catch (err) {
      showReplies(pending, [errorReply(errorMessageOf(err))], true);
    } finally {
      chatInFlight = false;
      updateSendState();
      endRequest();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Wiring

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });

  textarea.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    send();
  });

  textarea.addEventListener('input', autosize);

  textarea.addEventListener('paste', (event) => {
    const data = event.clipboardData;
    if (!data) return;
    const files = [];
    for (const entry of Array.from(data.items || [])) {
      if (entry.kind === 'file') {
        const file = entry.getAsFile();
        if (file) files.push(file);
      }
    }
    if (!files.length) return;
    // Keep the text of a mixed paste (e.g. copied from a web page); a pure image paste inserts nothing.
    if (!Array.from(data.types || []).includes('text/plain')) event.preventDefault();
    addFiles(files, 'paste');
  });

  attachButton.addEventListener('click', () => fileInput.click());

  fileInput.addEventListener('change', () => {
    addFiles(fileInput.files, 'picker');
    fileInput.value = '';
    textarea.focus();
  });

  let dragDepth = 0;
  const carriesFiles = (event) => !!event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files');
  const endDrag = () => {
    dragDepth = 0;
    document.body.classList.remove('drag-over');
  };
  document.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragDepth += 1;
    document.body.classList.add('drag-over');
  });
  document.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    document.body.classList.add('drag-over');
  });
  document.addEventListener('dragleave', (event) => {
    if (!carriesFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) endDrag();
  });
  document.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    endDrag();
    addFiles(event.dataTransfer.files, 'drop');
    textarea.focus();
  });
  window.addEventListener('blur', endDrag);

  updateSendState();
  loadSession();
})();
