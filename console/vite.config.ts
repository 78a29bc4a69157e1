// Builds the console into console/dist, served by `margay up` at /console/. Two pages: the app and
// the graph bench (bench.html, loaded only by bench/console-graph.ts).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: { main: here('index.html'), bench: here('bench.html') } },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:6443', '/apis': 'http://127.0.0.1:6443' } },
});
