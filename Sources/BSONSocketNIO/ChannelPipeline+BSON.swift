public import NIOCore

extension ChannelPipeline.SynchronousOperations {
    /// Adds what a BSON connection needs, as ``BSONClient`` and ``BSONServer`` do: a stall
    /// timer when `configuration` asks for one (``BSONConnectionConfiguration/idleTimeout``,
    /// ``BSONConnectionConfiguration/readTimeout``), then a ``BSONDocumentDecoder`` with the
    /// configuration's limits. Documents come out of the pipeline; outbound, the pipeline
    /// takes already-encoded frames (`ByteBuffer`).
    ///
    /// Call it on the channel's event loop, before the channel becomes active.
    ///
    /// - Parameter configuration: Limits and timeouts.
    /// - Throws: What adding a handler throws (a closed channel, for example).
    public func addBSONConnectionHandlers(configuration: BSONConnectionConfiguration) throws {
        var decoder = BSONDocumentDecoder(limits: configuration.frameLimits, options: configuration.decodingOptions)
        if configuration.idleTimeout != nil || configuration.readTimeout != nil {
            let progress = FrameProgress()
            decoder.cutter.progress = progress
            try addHandler(
                StallTimeoutHandler(
                    idleTimeout: configuration.idleTimeout.map(TimeAmount.init),
                    readTimeout: configuration.readTimeout.map(TimeAmount.init),
                    progress: progress),
                name: "BSONStallTimeout")
        }
        try addHandler(ByteToMessageHandler(decoder), name: "BSONDocumentDecoder")
    }
}
