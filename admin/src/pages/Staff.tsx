import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, client, type Ok } from '../api.ts';
import type { paths } from '../api/schema';
import { when } from '../format.ts';
import { useCan, useMe } from '../session.tsx';
import { Card, Field, ProblemBanner, Status, useAction } from '../ui.tsx';

type User = Ok<'/api/users', 'get'>['data'][number];
type Role = Ok<'/api/roles', 'get'>['data'][number];
type Key = Ok<'/api/api-keys', 'get'>['data'][number];
type Permission = NonNullable<paths['/api/api-keys']['post']['requestBody']['content']['application/json']['permissions']>[number];

export function Staff() {
  const can = useCan();
  const me = useMe();
  const [users, setUsers] = useState<User[]>([]);
  const [roles, setRoles] = useState<Role[]>([]);
  const [keys, setKeys] = useState<Key[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [form, setForm] = useState({ email: '', name: '', password: '', role_id: '' });
  const [keyName, setKeyName] = useState('');
  const [keyType, setKeyType] = useState<'secret' | 'publishable'>('secret');
  const [keyPerms, setKeyPerms] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState<string | null>(null);
  const load = () => {
    if (can('users:read')) void call(() => client.GET('/api/users', { params: { query: { limit: 100 } } })).then((p) => setUsers(p.data)).catch(setError);
    if (can('roles:read')) void call(() => client.GET('/api/roles', { params: { query: { limit: 100 } } })).then((p) => setRoles(p.data)).catch(setError);
    if (can('api_keys:read')) void call(() => client.GET('/api/api-keys', { params: { query: { limit: 100 } } })).then((p) => setKeys(p.data)).catch(setError);
  };
  useEffect(load, []);
  const addUser = useAction(async () => {
    await call(() => client.POST('/api/users', { body: form }));
    setForm({ email: '', name: '', password: '', role_id: form.role_id });
    load();
  });
  const addKey = useAction(async () => {
    const k = await call(() => client.POST('/api/api-keys', { body: { type: keyType, name: keyName, ...(keyType === 'secret' ? { permissions: [...keyPerms] as Permission[] } : {}) } as never }));
    setShown((k as { key?: string }).key ?? null);
    setKeyName('');
    load();
  });
  const revoke = useAction(async (id: string) => {
    await call(() => client.DELETE('/api/api-keys/{id}', { params: { path: { id } } }));
    load();
  });
  const userErr = addUser.error instanceof ApiError ? addUser.error : null;
  const keyErr = addKey.error instanceof ApiError ? addKey.error : null;
  return (
    <div class="grid">
      <ProblemBanner error={error} />
      {can('users:read') && (
        <Card title="Staff" wide>
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id}>
                  <td>{u.name}</td>
                  <td>{u.email}</td>
                  <td>{u.role.name}</td>
                  <td>
                    <Status value={u.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {can('users:write') && (
            <form
              aria-label="Add a staff member"
              onSubmit={(e) => {
                e.preventDefault();
                void addUser.run();
              }}
            >
              <h3>Add a staff member</h3>
              <div class="row">
                <Field label="Name" name="name" value={form.name} onInput={(v) => setForm({ ...form, name: v })} required error={userErr?.field('name')} />
                <Field label="Email" name="email" type="email" value={form.email} onInput={(v) => setForm({ ...form, email: v })} required error={userErr?.field('email')} />
                <Field label="Password" name="password" type="password" autoComplete="new-password" value={form.password} onInput={(v) => setForm({ ...form, password: v })} required error={userErr?.field('password')} />
                <div class="field">
                  <label for="f-role">Role</label>
                  <select id="f-role" value={form.role_id} required onChange={(e) => setForm({ ...form, role_id: (e.currentTarget as HTMLSelectElement).value })}>
                    <option value="">choose…</option>
                    {roles.map((r) => (
                      <option key={r.id} value={r.id}>
                        {r.name}
                      </option>
                    ))}
                  </select>
                </div>
              </div>
              <ProblemBanner error={userErr && (userErr.field('email') || userErr.field('password') || userErr.field('name')) ? null : addUser.error} />
              <button type="submit" disabled={addUser.busy}>
                Add
              </button>
            </form>
          )}
        </Card>
      )}
      {can('roles:read') && (
        <Card title="Roles" wide>
          <table>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Permissions</th>
              </tr>
            </thead>
            <tbody>
              {roles.map((r) => (
                <tr key={r.id}>
                  <td>
                    {r.name} {r.system && <span class="muted">(built in)</span>}
                  </td>
                  <td class="small">{r.permissions.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
      {can('api_keys:read') && (
        <Card title="API keys" wide>
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>{k.type}</td>
                  <td>{k.redacted}</td>
                  <td>{when(k.created_at)}</td>
                  <td>
                    {can('api_keys:write') && (
                      <button type="button" class="link" onClick={() => confirm(`Revoke ${k.name}? Whatever uses it stops working at once.`) && void revoke.run(k.id)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <ProblemBanner error={revoke.error} />
          {can('api_keys:write') && (
            <form
              aria-label="Create an API key"
              onSubmit={(e) => {
                e.preventDefault();
                void addKey.run();
              }}
            >
              <h3>Create a key</h3>
              <Field label="Name" name="key-name" value={keyName} onInput={setKeyName} required error={keyErr?.field('name')} />
              <div class="field">
                <label for="f-key-type">Type</label>
                <select id="f-key-type" value={keyType} onChange={(e) => setKeyType((e.currentTarget as HTMLSelectElement).value as 'secret')}>
                  <option value="secret">secret (a server)</option>
                  <option value="publishable">publishable (a storefront)</option>
                </select>
              </div>
              {keyType === 'secret' && (
                <fieldset>
                  <legend>Permissions (at most yours)</legend>
                  <div class="perms">
                    {[...me.permissions].sort().map((p) => (
                      <label key={p} class="check">
                        <input type="checkbox" checked={keyPerms.has(p)} onChange={(e) => setKeyPerms((s) => { const n = new Set(s); if ((e.currentTarget as HTMLInputElement).checked) n.add(p); else n.delete(p); return n; })} />
                        {p}
                      </label>
                    ))}
                  </div>
                </fieldset>
              )}
              <ProblemBanner error={keyErr?.field('name') ? null : addKey.error} />
              <button type="submit" disabled={addKey.busy}>
                Create key
              </button>
              {shown && (
                <p role="status">
                  The key (shown once — store it now): <code data-testid="new-key">{shown}</code>
                </p>
              )}
            </form>
          )}
        </Card>
      )}
    </div>
  );
}
