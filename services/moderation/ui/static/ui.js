// Keyboard shortcuts of the moderators' UI. Every action also has a visible button or link.
(function () {
  "use strict";

  function typing(event) {
    const el = event.target;
    return el instanceof HTMLElement && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  }

  function submit(id) {
    const form = document.getElementById(id);
    if (form) form.requestSubmit();
  }

  function follow(id) {
    const link = document.getElementById(id);
    if (link) window.location.assign(link.href);
  }

  function queuePage() {
    const items = Array.from(document.querySelectorAll(".items .item"));
    const counter = document.getElementById("selected-count");
    let current = -1;

    function focus(index) {
      if (!items.length) return;
      current = Math.max(0, Math.min(items.length - 1, index));
      items.forEach((item, i) => item.classList.toggle("current", i === current));
      items[current].focus({ preventScroll: true });
      items[current].scrollIntoView({ block: "nearest" });
    }

    function refreshCount() {
      const selected = items.filter((item) => {
        const box = item.querySelector("input[type=checkbox]");
        item.classList.toggle("selected", Boolean(box && box.checked));
        return box && box.checked;
      }).length;
      if (counter) counter.textContent = selected ? counter.dataset.template.replace("{n}", selected) : "";
    }

    items.forEach((item, i) => {
      item.addEventListener("click", (event) => {
        if (!(event.target instanceof HTMLInputElement) && !(event.target instanceof HTMLAnchorElement)) focus(i);
      });
      const box = item.querySelector("input[type=checkbox]");
      if (box) box.addEventListener("change", refreshCount);
    });

    document.addEventListener("keydown", (event) => {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "j" || event.key === "ArrowDown") { focus(current + 1); event.preventDefault(); }
      else if (event.key === "k" || event.key === "ArrowUp") { focus(current - 1); event.preventDefault(); }
      else if ((event.key === "Enter" || event.key === "o") && current >= 0) {
        window.location.assign(items[current].dataset.href);
      } else if (event.key === "s" && current >= 0) {
        const box = items[current].querySelector("input[type=checkbox]");
        if (box) { box.checked = !box.checked; refreshCount(); }
      } else if (event.key === "S") {
        submit("bulk");
      }
    });
    refreshCount();
  }

  function contributionPage() {
    const grounds = document.getElementById("reject-grounds");
    const textarea = document.getElementById("redacted-body");
    let armed = false;

    function arm(on) {
      armed = on;
      if (grounds) grounds.classList.toggle("armed", on);
    }

    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        arm(false);
        if (typing(event)) event.target.blur();
        return;
      }
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (armed && /^[0-9]$/.test(event.key)) {
        const radio = grounds.querySelector(`input[data-digit="${event.key}"]`);
        if (radio) { radio.checked = true; submit("reject-form"); }
        arm(false);
        event.preventDefault();
        return;
      }
      switch (event.key) {
        case "p": submit("publish-form"); break;
        case "r": submit("redact-form"); break;
        case "e": if (textarea) { textarea.focus(); event.preventDefault(); } break;
        case "x": if (grounds) { arm(true); grounds.scrollIntoView({ block: "nearest" }); } break;
        case "n": case "j": follow("next"); break;
        case "u": follow("back"); break;
        default: return;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.body.dataset.page;
    if (page === "queue") queuePage();
    if (page === "contribution") contributionPage();
  });
})();
