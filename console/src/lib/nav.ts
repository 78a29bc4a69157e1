// Hash routes: `#/PAGE?query`, so the server only ever serves index.html and a reload keeps the view.
export const PAGE_IDS = ['graph', 'flows', 'policies', 'audit'] as const;
export type PageId = (typeof PAGE_IDS)[number];

export function navigate(page: PageId, query?: Record<string, string>): void {
  const q = query !== undefined && Object.keys(query).length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
  window.location.hash = `#/${page}${q}`;
}
