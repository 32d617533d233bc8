import BSONSocket
import Testing

@Test func moduleImports() {
    #expect(BSONDocument().isEmpty)
}
