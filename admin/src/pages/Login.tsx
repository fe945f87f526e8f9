import { useState } from 'preact/hooks';
import { ApiError, login } from '../api.ts';
import { Field, ProblemBanner, useAction } from '../ui.tsx';

export function Login() {
  const [shop, setShop] = useState(localStorage.getItem('stockroom.shop') ?? '');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = useAction(async () => {
    localStorage.setItem('stockroom.shop', shop);
    await login(shop.trim(), email.trim(), password);
  });
  const err = submit.error instanceof ApiError ? submit.error : null;
  return (
    <main class="login">
      <form
        aria-label="Log in"
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run();
        }}
      >
        <h1>Stockroom</h1>
        <Field label="Shop" name="shop" value={shop} onInput={setShop} required autoComplete="organization" error={err?.field('shop')} />
        <Field label="Email" name="email" type="email" value={email} onInput={setEmail} required autoComplete="username" error={err?.field('email')} />
        <Field label="Password" name="password" type="password" value={password} onInput={setPassword} required autoComplete="current-password" error={err?.field('password')} />
        <ProblemBanner error={submit.error} />
        <button type="submit" disabled={submit.busy}>
          {submit.busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
