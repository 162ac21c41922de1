/** Style sheets the page imports: esbuild bundles them into dashboard.css. */
declare module '*.css';
