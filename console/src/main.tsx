// The console: four pages behind a hash router (#/graph, #/flows, #/policies, #/audit), the token
// from the URL fragment or a login box, and one error boundary.
import './setup.js';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { adoptTokenFromLocation, clearToken, getToken, setToken, setUnauthorizedHandler } from './api.js';
import { GraphPage } from './pages/GraphPage.js';
import { FlowsPage } from './pages/FlowsPage.js';
import { PoliciesPage } from './pages/PoliciesPage.js';
import { AuditPage } from './pages/AuditPage.js';
import './styles.css';

const PAGES = [
  { id: 'graph', title: 'Service graph' },
  { id: 'flows', title: 'Flows' },
  { id: 'policies', title: 'Policies' },
  { id: 'audit', title: 'Audit' },
] as const;
type PageId = (typeof PAGES)[number]['id'];

function route(): { page: PageId; query: URLSearchParams } {
  const [path = '', q = ''] = window.location.hash.replace(/^#\/?/, '').split('?');
  const page = (PAGES.find((p) => p.id === path)?.id ?? 'graph') as PageId;
  return { page, query: new URLSearchParams(q) };
}


function Login({ onDone, failed }: { onDone: () => void; failed: boolean }) {
  const [value, setValue] = useState('');
  return (
    <main className="login">
      <h1>Margay console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value);
          onDone();
        }}
      >
        <label htmlFor="token">Bearer token</label>
        <p className="hint">The URL <code>margay up</code> prints carries one; or use the token of your kubeconfig.</p>
        {failed && <p role="alert" className="error">That token was not accepted.</p>}
        <input id="token" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

function App() {
  const [r, setR] = useState(route);
  // Optimistic: a page's first request tells (401 shows the login box); no extra round trip.
  const [auth, setAuth] = useState<'ok' | 'login' | 'failed'>('ok');
  useEffect(() => {
    const onHash = () => setR(route());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => setUnauthorizedHandler(() => setAuth(getToken() !== null ? 'failed' : 'login')), []);
  if (auth !== 'ok') return <Login failed={auth === 'failed'} onDone={() => setAuth('ok')} />;
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header className="top">
        <span className="brand">Margay</span>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a key={p.id} href={`#/${p.id}`} aria-current={r.page === p.id ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        <button
          className="link"
          onClick={() => {
            clearToken();
            setAuth('login');
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {r.page === 'graph' && <GraphPage query={r.query} />}
        {r.page === 'flows' && <FlowsPage query={r.query} />}
        {r.page === 'policies' && <PoliciesPage query={r.query} />}
        {r.page === 'audit' && <AuditPage />}
      </main>
    </>
  );
}

adoptTokenFromLocation();
const root = document.getElementById('root');
if (root !== null) createRoot(root).render(<StrictMode><App /></StrictMode>);
