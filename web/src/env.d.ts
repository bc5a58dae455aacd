// The part of Vite's client types the page uses (import.meta.env is replaced at build time).
interface ImportMeta {
  readonly env: { readonly PROD: boolean; readonly DEV: boolean };
}

// Vite's `?url` imports: the built file's URL.
declare module "*.wasm?url" {
  const url: string;
  export default url;
}
