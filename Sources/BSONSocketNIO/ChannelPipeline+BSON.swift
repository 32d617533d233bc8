public import NIOCore

extension ChannelPipeline.SynchronousOperations {
    /// Adds the handlers a BSON connection's bytes go through: a stall timer when
    /// `configuration` asks for one (``BSONConnectionConfiguration/idleTimeout``,
    /// ``BSONConnectionConfiguration/frameTimeout``, ``BSONConnectionConfiguration/sendTimeout``),
    /// then a ``BSONDocumentDecoder`` with the configuration's limits. Documents come out of
    /// the pipeline; outbound, the pipeline takes already-encoded frames (`ByteBuffer`).
    ///
    /// ``BSONClient`` and ``BSONServer`` add these and, behind them, the byte budget of
    /// the inbound buffer and the handler that delivers what was sent before a close; those
    /// need the connection's consumer and are not added here.
    ///
    /// Call it on the channel's event loop, before the channel becomes active.
    ///
    /// - Parameter configuration: Limits and timeouts.
    /// - Throws: What adding a handler throws (a closed channel, for example).
    public func addBSONConnectionHandlers(configuration: BSONConnectionConfiguration) throws {
        _ = try addBSONHandlers(configuration: configuration, budget: nil, eventLoop: nil)
    }

    /// The handlers of ``addBSONConnectionHandlers(configuration:)``, and with a budget the
    /// budget's handler and a ``DeliveryHandler``, whose promise is returned.
    func addBSONHandlers(
        configuration: BSONConnectionConfiguration, budget: InboundBudget?, eventLoop: (any EventLoop)?
    ) throws -> EventLoopPromise<Void>? {
        var decoder = BSONDocumentDecoder(limits: configuration.frameLimits, options: configuration.decodingOptions)
        decoder.budget = budget
        if configuration.idleTimeout != nil || configuration.frameTimeout != nil || configuration.sendTimeout != nil {
            let progress = FrameProgress()
            decoder.cutter.progress = progress
            try addHandler(
                StallTimeoutHandler(
                    idleTimeout: configuration.idleTimeout.map(TimeAmount.init),
                    frameTimeout: configuration.frameTimeout.map(TimeAmount.init),
                    sendTimeout: configuration.sendTimeout.map(TimeAmount.init),
                    progress: progress),
                name: "BSONStallTimeout")
        }
        try addHandler(ByteToMessageHandler(decoder), name: "BSONDocumentDecoder")
        guard let budget, let eventLoop else { return nil }
        try addHandler(InboundBudgetHandler(budget: budget), name: "BSONInboundBudget")
        let delivery = DeliveryHandler(eventLoop: eventLoop, sendTimeout: configuration.sendTimeout.map(TimeAmount.init))
        try addHandler(delivery, name: "BSONDelivery")
        return delivery.delivered
    }
}
