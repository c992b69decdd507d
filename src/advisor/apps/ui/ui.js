// Behaviour of the advisor page, run once by the Sources panel (gr.HTML js_on_load: `element`, `server`).
// Markers [n] open their passage, an answer brings its sources back, suggestions ask, the document viewer
// shows a whole document with the passage highlighted, and a new question stays at the top of its answer.
(() => {
  const sourcesRoot = element;
  const narrow = () => window.matchMedia("(max-width: 900px)").matches;
  const panel = () => document.getElementById("sources-panel");

  const askRowHeight = () => document.getElementById("ask-row")?.getBoundingClientRect().height || 0;

  // The nearest ancestor that scrolls: the sources panel, the phone drawer, or the chat.
  function scroller(el) {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight) return node;
    }
    return null;
  }

  function showGroup(ex) {
    let found = null;
    sourcesRoot.querySelectorAll(".src-group").forEach((g) => {
      const on = g.dataset.ex === String(ex);
      g.hidden = !on;
      if (on) found = g;
    });
    document.querySelectorAll("#chat .answer.active").forEach((a) => a.classList.remove("active"));
    const answer = document.querySelector(`#chat .answer.ex-${ex}`);
    if (answer) answer.classList.add("active");
    return found;
  }

  function openDrawer() {
    if (!narrow()) return;
    panel()?.classList.add("open");
    document.body.classList.add("drawer-open");
  }

  function closeDrawer() {
    panel()?.classList.remove("open");
    document.body.classList.remove("drawer-open");
  }

  // Passage n of answer ex, flashed; `quote` (the marker's sentence) is the highlight pointed out in it.
  function showSource(ex, n, quote) {
    const group = showGroup(ex);
    const card = group && group.querySelector(`.source-card[data-rank="${n}"]`);
    if (!card) return;
    const folded = card.closest("details");
    if (folded) folded.open = true;
    openDrawer();
    sourcesRoot.querySelectorAll(".source-card.flash").forEach((c) => c.classList.remove("flash"));
    sourcesRoot.querySelectorAll(".current-quote").forEach((c) => c.classList.remove("current-quote"));
    card.classList.add("flash");
    const marks = quote === null ? [] : [...card.querySelectorAll(`.passage .q-${quote}`)];
    marks.forEach((m) => m.classList.add("current-quote"));
    // Only the sources panel (the drawer on a phone) scrolls: the page and the chat stay where they are.
    const box = panel();
    const gap = narrow() ? 64 : 8; // on a phone the drawer's header stays on top
    if (box) {
      box.scrollTop += card.getBoundingClientRect().top - box.getBoundingClientRect().top - gap;
      const mark = marks[0];
      const bottom = box.getBoundingClientRect().bottom;
      if (mark && mark.getBoundingClientRect().bottom > bottom - 8) {
        box.scrollTop += mark.getBoundingClientRect().bottom - bottom + box.clientHeight / 3;
      }
    }
    card.focus({ preventScroll: true });
  }

  // On a wide screen the sources panel ends at the bottom of the window (it starts below the header and
  // banner, whose height varies), so it scrolls on its own and opening a source never scrolls the page.
  // The chat too ends at the bottom of the window, the question box and actions below it, so the page itself
  // does not scroll: one scroller, the chat (on a phone the page is the one scroller; see ui.css).
  function fitPanel() {
    const row = document.getElementById("main");
    if (!row) return;
    const top = Math.round(row.getBoundingClientRect().top + window.scrollY);
    const value = `${Math.min(Math.max(top, 8), Math.round(window.innerHeight / 2)) + 24}px`;
    const root = document.documentElement.style;
    if (root.getPropertyValue("--sources-top") !== value) root.setProperty("--sources-top", value);
    const chat = document.getElementById("chat");
    if (!chat || narrow()) return;
    let below = 0;
    for (let n = chat.nextElementSibling; n; n = n.nextElementSibling) below += n.getBoundingClientRect().height;
    const chatTop = chat.getBoundingClientRect().top + window.scrollY;
    const height = `${Math.max(320, Math.floor(window.innerHeight - chatTop - below - 52))}px`;
    if (root.getPropertyValue("--adv-chat-h") !== height) root.setProperty("--adv-chat-h", height);
  }

  function ask(question) {
    const box = document.querySelector("#question textarea");
    if (!box) return;
    box.value = question;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => document.getElementById("ask")?.click(), 60);
  }

  function viewer() {
    let dialog = document.getElementById("doc-viewer");
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.id = "doc-viewer";
    dialog.setAttribute("aria-label", "Document");
    dialog.innerHTML =
      "<div class='dv-head'><button type='button' class='dv-close'>Close the document</button></div>" +
      "<div class='dv-body' tabindex='0'></div>";
    dialog.querySelector(".dv-close").addEventListener("click", () => dialog.close());
    dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });
    document.body.appendChild(dialog);
    return dialog;
  }

  async function openDocument(button) {
    const dialog = viewer();
    const body = dialog.querySelector(".dv-body");
    body.innerHTML = "<p>Opening the document…</p>";
    dialog.showModal();
    try {
      body.innerHTML = await server.read_document({ source: button.dataset.source, chunk: button.dataset.chunk });
    } catch (err) {
      body.innerHTML = "<p>This document cannot be shown right now.</p>";
    }
    const first = body.querySelector(".quoted, mark");
    if (first) first.scrollIntoView({ block: "center", behavior: "instant" });
    dialog.dataset.ready = "1";
  }

  sourcesRoot.addEventListener("click", (e) => {
    const open = e.target.closest("button.open-doc");
    if (open) {
      e.preventDefault();
      openDocument(open);
    }
  });

  if (window.__advisorPage) return;
  window.__advisorPage = true;

  // "Copy message" copies what the message says, as Markdown: the answer with its [n] markers and a short list
  // of its sources, never the HTML the chat draws it from. Gradio's copy button writes the message's content.
  function messageMarkdown(value) {
    if (typeof value !== "string" || !/<[a-z][^>]*>|&[#\w]+;/i.test(value)) return value;
    const root = new DOMParser().parseFromString(`<div>${value}</div>`, "text/html").body.firstElementChild;
    const sources = [...root.querySelectorAll("details.src-foot li")].map((li) => li.textContent.replace(/\s+/g, " ").trim());
    root.querySelectorAll("details.src-foot, p.who, details.more > summary").forEach((e) => e.remove());
    root.querySelectorAll("ul.suggestions li").forEach((li) => li.prepend("- "));
    root.querySelectorAll("p, li, ul, div, details").forEach((e) => e.append("\n"));
    let text = root.textContent.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
    if (sources.length) text += `\n\nSources:\n${sources.join("\n")}`;
    return text;
  }
  const clipboard = navigator.clipboard;
  if (clipboard) {
    const write = clipboard.writeText.bind(clipboard);
    clipboard.writeText = (text) => write(messageMarkdown(text));
  }

  // The chat's edit box: labelled, Enter sends it (Shift+Enter: a new line), and it says what sending replaces.
  function fitEditBox(chat) {
    chat.querySelectorAll("textarea.edit-textarea:not([aria-label])").forEach((box) => {
      box.setAttribute("aria-label", "Edit your question");
      const row = box.closest(".message-row");
      const rows = [...chat.querySelectorAll(".message-row.user-row")];
      const later = rows.length - 1 - rows.indexOf(row);
      const hint = later > 0
        ? `Sending replaces its answer and the ${later} later exchange${later > 1 ? "s" : ""}; ` +
          "the conversation as it is now stays in your list."
        : "Sending replaces its answer. Enter sends, Shift+Enter starts a new line.";
      row?.setAttribute("data-edit-hint", hint);
      box.setAttribute("aria-description", hint);
      box.addEventListener("keydown", (e) => {
        if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
        e.preventDefault();
        document.querySelector("#chat button[aria-label='Submit']")?.click();
      });
    });
    chat.querySelectorAll(".message-row[data-edit-hint]").forEach((row) => {
      if (!row.querySelector("textarea.edit-textarea")) row.removeAttribute("data-edit-hint");
    });
  }

  // An open edit box belongs to the conversation shown: starting, switching or deleting one closes it first.
  document.addEventListener(
    "click",
    (e) => {
      if (!e.target.closest("#new, #delete, #conversations label, #conversations input")) return;
      document.querySelector("#chat button[aria-label='Cancel']")?.click();
    },
    true,
  );

  fitPanel();
  window.addEventListener("resize", fitPanel);
  new ResizeObserver(fitPanel).observe(document.body);

  // On a phone the conversations sidebar starts closed (its toggle button opens it).
  const closeSidebarOnPhone = (tries) => {
    if (!narrow()) return;
    const toggle = document.querySelector("#sidebar.open .toggle-button");
    if (toggle) toggle.click();
    else if (tries > 0 && !document.querySelector("#sidebar")) setTimeout(() => closeSidebarOnPhone(tries - 1), 100);
  };
  closeSidebarOnPhone(30);

  document.addEventListener("click", (e) => {
    const cite = e.target.closest("a.cite");
    if (cite) {
      e.preventDefault();
      const m = /#src-(\d+)-(\d+)$/.exec(cite.getAttribute("href") || "");
      const q = /\bq-(\d+)\b/.exec(cite.className);
      if (m) showSource(m[1], m[2], q ? q[1] : null);
      return;
    }
    const suggestion = e.target.closest("button.suggest");
    if (suggestion) {
      e.preventDefault();
      ask(suggestion.textContent.trim());
      return;
    }
    if (e.target.closest(".drawer-close")) {
      closeDrawer();
      return;
    }
    if (e.target.closest("#open-sources")) {
      // On a phone: the sources of the answer last clicked (else the latest) open without tapping a marker.
      const active = document.querySelector("#chat .answer.active") || [...document.querySelectorAll("#chat .answer")].pop();
      const m = active && /\bex-(\d+)\b/.exec(active.className);
      if (m) showGroup(m[1]);
      openDrawer();
      return;
    }
    if (narrow() && e.target.closest("#new, #conversations label")) {
      // On a phone the sidebar covers the chat: starting or picking a conversation closes it.
      setTimeout(() => document.querySelector("#sidebar.open .toggle-button")?.click(), 50);
    }
    const bubble = e.target.closest("#chat .message-row, #chat .message");
    const answer = bubble && bubble.querySelector(".answer");
    const m = answer && /\bex-(\d+)\b/.exec(answer.className);
    if (m) showGroup(m[1]);
  });

  // A question sent while the last answer is still being written is not taken (the page sends one at a time):
  // the key or click is stopped before Gradio sees it (else Gradio queues it and answers it after the current
  // answer, even one the user then stops), and a note says so. An answer is being written while a question has
  // no finished answer yet. The question stays in the box, to send again.
  const busy = () =>
    document.querySelectorAll("#chat [data-testid='user']").length > document.querySelectorAll("#chat .answer").length;
  function sayBusy() {
    let note = document.getElementById("busy-note");
    if (!note) {
      note = document.createElement("p");
      note.id = "busy-note";
      note.setAttribute("role", "status");
      document.body.appendChild(note);
    }
    note.textContent = "Still answering your last question: wait for it, or press Stop, then ask again.";
    note.hidden = false;
    clearTimeout(sayBusy.timer);
    sayBusy.timer = setTimeout(() => { note.hidden = true; }, 6000);
  }
  document.addEventListener(
    "keydown",
    (e) => {
      if (e.key === "Enter" && !e.shiftKey && e.target.closest?.("#question textarea") && busy()) refuse(e);
    },
    true,
  );
  document.addEventListener("click", (e) => { if (e.target.closest?.("#ask") && busy()) refuse(e); }, true);
  function refuse(e) {
    e.preventDefault();
    e.stopImmediatePropagation();
    sayBusy();
  }

  // Hovering (or focusing) a marker previews what it cites: the source's title and the sentence it quotes from
  // the passage (else the passage's start), read from the Sources panel, without opening anything.
  function preview() {
    let tip = document.getElementById("cite-preview");
    if (!tip) {
      tip = document.createElement("div");
      tip.id = "cite-preview";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      document.body.appendChild(tip);
    }
    return tip;
  }
  function showPreview(cite) {
    const m = /#src-(\d+)-(\d+)$/.exec(cite.getAttribute("href") || "");
    const card = m && sourcesRoot.querySelector(`.src-group[data-ex="${m[1]}"] .source-card[data-rank="${m[2]}"]`);
    if (!card) return;
    const q = /\bq-(\d+)\b/.exec(cite.className);
    const quoted = q && card.querySelector(`.passage .q-${q[1]}`);
    let text = (quoted || card.querySelector(".passage"))?.textContent.replace(/\s+/g, " ").trim() || "";
    if (text.length > 220) text = `${text.slice(0, 219).replace(/\s+\S*$/, "")}…`;
    const tip = preview();
    tip.replaceChildren();
    const head = document.createElement("strong");
    head.textContent = card.querySelector("h4")?.textContent.trim() || "";
    const body = document.createElement("span");
    body.textContent = quoted ? `“${text}”` : text;
    tip.append(head, body);
    tip.hidden = false;
    cite.setAttribute("aria-describedby", "cite-preview");
    const r = cite.getBoundingClientRect();
    const width = Math.min(360, window.innerWidth - 16);
    tip.style.width = `${width}px`;
    tip.style.left = `${Math.max(8, Math.min(r.left, window.innerWidth - width - 8))}px`;
    const below = r.bottom + 6 + tip.offsetHeight < window.innerHeight;
    tip.style.top = `${below ? r.bottom + 6 : Math.max(8, r.top - tip.offsetHeight - 6)}px`;
  }
  function hidePreview() {
    const tip = document.getElementById("cite-preview");
    if (tip) tip.hidden = true;
  }
  for (const kind of ["mouseover", "focusin"]) {
    document.addEventListener(kind, (e) => {
      const cite = e.target.closest?.("#chat a.cite");
      if (cite) showPreview(cite);
    });
  }
  for (const kind of ["mouseout", "focusout", "click", "scroll"]) {
    document.addEventListener(kind, (e) => { if (kind !== "mouseout" || e.target.closest?.("#chat a.cite")) hidePreview(); }, true);
  }

  // Keyboard: Alt+1 ... Alt+9 open source n of the latest answer (its markers are many Tab stops away).
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && document.body.classList.contains("drawer-open")) closeDrawer();
    const digit = /^Digit([1-9])$/.exec(e.code || "");
    if (!e.altKey || e.ctrlKey || e.metaKey || !digit) return;
    const answers = document.querySelectorAll("#chat .answer");
    const latest = answers[answers.length - 1];
    const ex = latest && /\bex-(\d+)\b/.exec(latest.className);
    const link = ex && latest.querySelector(`a.cite[href='#src-${ex[1]}-${digit[1]}']`);
    if (!link) return;
    e.preventDefault();
    const q = /\bq-(\d+)\b/.exec(link.className);
    showSource(ex[1], digit[1], q ? q[1] : null);
  });

  // Gradio's accordions ("What I know") say whether they are open.
  const syncExpanded = () =>
    document.querySelectorAll(".gr-accordion > button.label-wrap").forEach((b) => {
      const open = String(b.classList.contains("open"));
      if (b.getAttribute("aria-expanded") !== open) b.setAttribute("aria-expanded", open);
    });
  document.addEventListener("click", () => setTimeout(syncExpanded, 0));
  document.addEventListener("keyup", () => setTimeout(syncExpanded, 0));
  const waitForAccordions = (tries) => {
    syncExpanded();
    if (!document.querySelector(".gr-accordion") && tries > 0) setTimeout(() => waitForAccordions(tries - 1), 200);
  };
  waitForAccordions(50);

  // Keep each new question at the top of the chat while its answer comes in (instead of scrolling away).
  let questions = 0;
  const watchChat = () => {
    const chat = document.getElementById("chat");
    if (!chat) return setTimeout(watchChat, 200);
    chat.querySelectorAll(".examples[role]").forEach((el) => el.removeAttribute("role"));
    new MutationObserver(() => {
      // Gradio marks the example chips' container as a list holding buttons; axe-core rightly objects.
      chat.querySelectorAll(".examples[role]").forEach((el) => el.removeAttribute("role"));
      fitEditBox(chat);
      chat.querySelectorAll("a.cite[title]").forEach((a) => {
        // named after its source; the page's own preview replaces the browser's title tip
        a.setAttribute("aria-label", `Source ${a.textContent.replace(/\D/g, "")}: ${a.title}`);
        a.dataset.title = a.title;
        a.removeAttribute("title");
      });
      const users = chat.querySelectorAll("[data-testid='user']");
      if (users.length > questions) {
        const last = users[users.length - 1];
        requestAnimationFrame(() => {
          // The answer below the newest question gets at least the rest of the view, so the question can sit at
          // the top while its answer grows under it (the chat on a wide screen, the page on a phone).
          const box = scroller(last);
          const view = box ? box.getBoundingClientRect() : { top: 0, bottom: window.innerHeight - askRowHeight() };
          const room = Math.max(0, view.bottom - view.top - last.getBoundingClientRect().height - 24);
          chat.style.setProperty("--adv-last-answer-min", `${Math.round(room)}px`);
          const offset = last.getBoundingClientRect().top - view.top - 8;
          if (box) box.scrollTop += offset;
          else window.scrollBy({ top: offset, behavior: "instant" });
        });
      } else if (users.length !== questions) {
        chat.style.removeProperty("--adv-last-answer-min"); // another conversation: no room kept
      }
      questions = users.length;
    }).observe(chat, { childList: true, subtree: true });
  };
  watchChat();
})();
