// Browser-side configuration, bundled by Vite.
export const mapsKey: string = import.meta.env.VITE_MAPS_KEY;
export const apiBase: string = import.meta.env.VITE_API_BASE ?? "/api";
