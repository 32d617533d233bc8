// The transport module: framing, the syscall layer, sockets and the seed API.
//
// Importing BSONSocket also imports the codec, so `import BSONSocket` alone gives a program
// documents, values and the socket methods (`recvObj`, `sendObj`, `recvBytes`).
@_exported public import BSONCodec
