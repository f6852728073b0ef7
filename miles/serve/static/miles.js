// Miles dashboard: the only script besides htmx. Shows a chosen thumbnail before it is sent.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.preview) return;
  const img = document.getElementById(input.dataset.preview);
  if (!img) return;
  const file = input.files && input.files[0];
  if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
  if (!file) { img.hidden = true; return; }
  img.dataset.url = URL.createObjectURL(file);
  img.src = img.dataset.url;
  img.hidden = false;
});
