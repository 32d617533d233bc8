// The transport module: framing, the syscall layer, sockets and the seed API.
@_exported public import BSONCodec
