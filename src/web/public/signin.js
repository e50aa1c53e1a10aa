// Sign-in page: posts the credentials as JSON and goes on to the page that sent the user here.
const form = document.getElementById('signin-form');
const error = document.getElementById('signin-error');

function nextPage() {
  const next = new URLSearchParams(location.search).get('next') ?? '/ward';
  // Only paths on this site: never an absolute or protocol-relative address.
  return next.startsWith('/') && !next.startsWith('//') ? next : '/ward';
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
      body: JSON.stringify({ username: form.username.value.trim(), password: form.password.value }),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || `sign-in failed (${res.status})`);
    location.assign(nextPage());
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    form.password.value = '';
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
