// Miles dashboard: the only script besides htmx. Previews a chosen thumbnail, checks sizes before an upload,
// brings the result into view, and keeps the draft in the page's URL so Back and Reload restore it.
const LIMIT = 8 * 1024 * 1024; // the server's limit for one request, images together
const FIELDS = ["title", "hashtags", "duration", "publish_at", "creator_id", "followers", "title_variants"];

document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
  checkSizes(input.form);
  if (!input.dataset.preview) return;
  const img = document.getElementById(input.dataset.preview);
  if (!img) return;
  const file = input.files && input.files[0];
  if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
  if (!file) { img.hidden = true; return; }
  img.dataset.url = URL.createObjectURL(file);
  img.src = img.dataset.url;
  img.hidden = false;
});

function megabytes(n) { return (n / 1024 / 1024).toFixed(1) + " MiB"; }

// The message for images over the limit (naming the field and the file), or "" when they fit.
function sizeProblem(form) {
  if (!form) return "";
  let total = 0;
  for (const input of form.querySelectorAll("input[type=file]")) {
    for (const file of input.files || []) {
      const field = input.labels && input.labels[0] ? input.labels[0].firstChild.textContent.trim() : input.name;
      if (file.size > LIMIT) return `${field}: ${file.name} is ${megabytes(file.size)}; Miles takes at most 8 MiB. Choose a smaller image.`;
      total += file.size;
    }
  }
  return total > LIMIT ? `The images together are ${megabytes(total)}; Miles takes at most 8 MiB per draft. Choose fewer or smaller images.` : "";
}

function checkSizes(form) {
  const box = document.getElementById("size-error");
  if (!box || !form) return true;
  const problem = sizeProblem(form);
  box.textContent = problem;
  box.hidden = !problem;
  return !problem;
}

function draftForm() { return document.getElementById("draft"); }

document.addEventListener("htmx:beforeRequest", (event) => {
  const form = draftForm();
  if (!form || event.detail.elt !== form) return;
  if (!checkSizes(form)) { event.preventDefault(); document.getElementById("size-error").focus(); return; }
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const el = form.elements[name];
    if (el && el.value.trim()) params.set(name, el.value);
  }
  history.replaceState(null, "", "?" + params.toString());
});

document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id !== "result") return;
  const shown = document.getElementById("prediction") || event.detail.target.querySelector(".error");
  if (!shown) return;
  shown.scrollIntoView({ block: "start" });
  shown.focus({ preventScroll: true });
  if (shown.id === "prediction") {
    try { sessionStorage.setItem("miles:" + location.search, event.detail.target.innerHTML); } catch (e) { /* full: not kept */ }
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const form = draftForm();
  const params = new URLSearchParams(location.search);
  if (!form || !params.get("title")) return;
  for (const name of FIELDS) {
    if (params.has(name) && form.elements[name]) form.elements[name].value = params.get(name);
  }
  let saved = null;
  try { saved = sessionStorage.getItem("miles:" + location.search); } catch (e) { saved = null; }
  const result = document.getElementById("result");
  if (saved) {
    result.innerHTML = saved;
    htmx.process(result);
  } else {
    htmx.trigger(form, "submit");
  }
});
