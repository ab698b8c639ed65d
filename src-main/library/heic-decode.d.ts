// Types for heic-decode 2.x (libheif compiled to wasm), which ships none.
declare module 'heic-decode' {
  interface HeicPixels {
    width: number;
    height: number;
    /** RGBA, 4 bytes per pixel */
    data: Uint8ClampedArray;
  }
  interface HeicFrame {
    width: number;
    height: number;
    decode(): Promise<HeicPixels>;
  }
  function decode(input: { buffer: Uint8Array }): Promise<HeicPixels>;
  namespace decode {
    function all(input: { buffer: Uint8Array }): Promise<HeicFrame[] & { dispose(): void }>;
  }
  export = decode;
}
