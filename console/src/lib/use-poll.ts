// Polling as a React hook: runs `load` now and every `everyMs` while `live`, ignoring answers that
// arrive after a newer request started (so a slow answer never overwrites a fresh one).
import { useCallback, useEffect, useRef, useState } from 'react';

export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], live: boolean, everyMs: number): { data: T | undefined; error: Error | undefined; reload: () => void; loading: boolean } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const controller = useRef<AbortController | undefined>(undefined);
  const run = useCallback(() => {
    const mine = ++seq.current;
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    setLoading(true);
    load(c.signal).then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (mine !== seq.current || (err instanceof DOMException && err.name === 'AbortError')) return;
        setError(err instanceof Error ? err : new Error(String(err)));
        setLoading(false);
      },
    );
  }, deps);
  useEffect(() => {
    run();
    if (!live) return () => controller.current?.abort();
    const t = setInterval(run, everyMs);
    return () => {
      clearInterval(t);
      controller.current?.abort();
    };
  }, [run, live, everyMs]);
  return { data, error, reload: run, loading };
}
