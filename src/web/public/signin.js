// Sign-in page: posts the credentials as JSON and goes on to the page that sent the user here.
const form = document.getElementById('signin-form');
const error = document.getElementById('signin-error');

// The server decides where `next` may lead (a path on this site, or /ward); the page checks
// once more with the browser's own URL parser and navigates to the absolute same-origin address.
function sameOrigin(path) {
  const target = new URL(path ?? '/ward', location.origin);
  return target.origin === location.origin ? target.href : new URL('/ward', location.origin).href;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  error.hidden = true;
  const button = document.getElementById('signin-button');
  button.disabled = true;
  try {
    const res = await fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ username: form.username.value.trim(), password: form.password.value, next: new URLSearchParams(location.search).get('next') ?? undefined }),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || `sign-in failed (${res.status})`);
    location.assign(sameOrigin(data.next));
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    form.password.value = '';
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
