// SwiftNIO for BSON streams: channel handlers that cut and decode self-delimited BSON frames
// with the framing rules of BSONSocket, and an async/await client and server on
// NIOAsyncChannel.
//
// Importing BSONSocketNIO also imports BSONSocket and the codec, so documents, values,
// limits and `BSONError` come with it. This module makes no system calls of its own: sockets
// are SwiftNIO's (NIOPosix), and the Unix socket file rules are BSONSocket's.
@_exported public import BSONSocket
