// Node 20 polyfills for the js-libp2p 3.x dependency tree.
//
// Load it before any libp2p module is evaluated: either
//   node --import ./tests/interop/js/polyfill.mjs …
// or as the very first static import of a script (peer.mjs does this).
//
// A scan of node_modules (libp2p 3.3.11 and friends) found only
// Promise.withResolvers (ES2024, Node >= 22) as a Node-22-only API in use.

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers () {
      let resolve
      let reject
      const promise = new this((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    }
  })
}
