import BSONCodec
import Foundation

// Swift models of the driver-benchmark documents (Data/driver-bench/), for the Codable
// round-trip tests and for measuring Codable speed. FlatBench and FullBench were generated
// from flat_bson.json and full_bson.json (one stored property per field, in document order,
// with the Swift type matching each field's BSON type); DeepBench and its levels model
// the binary tree of right/left documents, six levels deep.

/// The flat_bson.json document: 145 fields.
struct FlatBench: Codable, Equatable {
    var pfZSRHnn: Double
    var XeRkAyCq: Int32
    var oRWMNJTE: String
    var hnVgYIQi: String
    var cxOHMeDJ: String
    var MeUYSkPS: String
    var IsorvnMR: Bool
    var vvUeXASH: Bool
    var zEgGhhZf: Bool
    var SUWXijHT: Int32
    var HicJbMpj: Bool
    var ijwXMKqI: Int32
    var RemSsnnR: Bool
    var McpOBmaR: String
    var ddVenEkK: Int32
    var CqCssWxW: String
    var taoNnQYY: Double
    var MXMxLVBk: Int32
    var yeTUgNrU: Bool
    var vkEDWgmN: String
    var TgSwBbgp: Double
    var FDYGeSiR: Int64
    var xrzGnsEK: String
    var VVvwKVRG: Int32
    var TmUnYUrv: Int64
    var OCsIhHxq: String
    var pKjOghFa: Bool
    var VCSKFCoE: Int64
    var yKfZnGKG: Double
    var UKwbAKGw: Int32
    var iFFGfTXc: String
    var RwAVVKHM: String
    var AtWNZJXa: Int64
    var XxvXmHiQ: Double
    var wmDLUkXt: Int64
    var zSYvADVf: Int64
    var VcCSqSmp: Bool
    var jmglLvAS: String
    var ZmtEJFSO: String
    var MqfkBZJF: Int32
    var doshbrpF: Int64
    var jWaFvVAz: Double
    var LVNIFCYm: Bool
    var VplFgewF: Int32
    var eRTIdIJR: String
    var zswQbWEI: Int64
    var obcwwqWZ: Double
    var vlSZaxCV: String
    var QobifTeZ: String
    var XXKbyIXG: Int64
    var dNSuxlSU: String
    var HrUPbFHD: Double
    var XEBqaXkB: Double
    var xWpeGNjl: Int64
    var aicoMxZq: Bool
    var LngvlnTV: Double
    var WYJdGJLu: String
    var TRpgnInA: Bool
    var JhImQOkw: Bool
    var KMKBtlov: Int64
    var gySFZeAE: Double
    var RPsQhgRD: String
    var rmzUAgmk: String
    var Ibrdrtgg: String
    var WmMOvgFc: Bool
    var KnhgtAOJ: String
    var qrJASGzU: Bool
    var egxZaSsw: Bool
    var cVjWCrlu: Int64
    var OfTmCvDx: String
    var MNuWZMLP: Bool
    var JrJzKiIx: String
    var JzgaUWVG: Double
    var WHSQVLKG: Bool
    var SYtZkQbC: String
    var nBKWWUWk: Int32
    var Rbxpznea: Int32
    var tIJEYSYM: String
    var dHsYhRbV: String
    var iwfbMdcv: Double
    var dCLfYqqM: Int32
    var ahFCBmqT: Int64
    var TkXMwZlU: Int64
    var LUPqMOHS: String
    var hwHOTmmW: Double
    var kfvcFmKw: Bool
    var bkuaZWRT: Int64
    var nKhiSITP: Int32
    var CYhSCkWB: String
    var vSLTtfDF: String
    var CEtYKsdd: String
    var dVkWIafN: Double
    var HQiykral: Double
    var YDHWnEXV: String
    var pacTBmxE: Double
    var ddPdLgGg: Int32
    var xWUlYggc: String
    var dpbwfSRb: String
    var AgYYbYPr: Int32
    var wjfyueDC: Bool
    var fEheUtop: String
    var pOMEwSod: Int32
    var BwTXiovJ: Int32
    var TDUzNJiH: String
    var KyxOoCqS: Int32
    var zMCFzcWY: String
    var FpduyhQP: Bool
    var JXMyYkfb: Double
    var yXSBbPeT: String
    var wjAWaOog: String
    var cepcgozk: String
    var DQBQcQFj: Int64
    var sYtnozSc: Int64
    var BBqZInWV: String
    var dtywOLeD: String
    var WoFGfdvb: String
    var zDzSGNnW: Bool
    var ReOZakjB: Double
    var uMDWqLMf: String
    var GiAHzFII: Int32
    var UtbwOKLt: Int64
    var DJsnHZIC: Int32
    var SqNvlUZF: Int64
    var PvfnpsMV: Int32
    var UpdMADoN: Bool
    var jbUymqiB: String
    var qHzOMXeT: Int32
    var XGxlHrXf: Bool
    var sGWJTAcT: Bool
    var VtzeOlCT: String
    var mlfZVfVT: Double
    var HVHyetUM: Int64
    var gErhgZTh: String
    var omnwvBbA: Int32
    var AgSNVyBb: Int64
    var CDIGOuIZ: Double
    var CFujXoob: Int32
    var reiKnuza: Int64
    var PjKiuWnQ: Double
    var pQyCJaEd: Double
    var xZOksssj: Int64
    var AMQrGQmu: Int64
    var HQeCoswW: Double
    var pPtPsgRl: String
    var _id: BSONObjectID
}

/// The full_bson.json document: 91 fields.
struct FullBench: Codable, Equatable {
    var KpnXZaDQ: Int32
    var BOQAeydE: Data
    var kVDldkCH: Int64
    var olUSRZtj: BSONDocument
    var ayrwiTMT: BSONValue
    var nyYyaFrV: Int32
    var zlVZQePF: Bool
    var iRVlyXVm: Int64
    var lyWwkZGg: BSONCodeWithScope
    var DfzEYsYW: Bool
    var VFKRjaPW: BSONValue
    var pDeYcUIu: Date
    var kqKTGXUm: Data
    var iNbJUZuj: BSONCodeWithScope
    var buEAkIge: Date
    var NAKOhrML: Int32
    var CAWdqfmI: Int64
    var hAcOFtfN: Data
    var qPDeTZWq: Int64
    var ARdpUnvr: BSONCodeWithScope
    var geaenijV: BSONTimestamp
    var EuKkhmHw: BSONValue
    var kcVXzXHn: BSONCodeWithScope
    var dSMWIFLD: Int64
    var UuDsAOGk: BSONCodeWithScope
    var KUVCyPFv: String
    var kFaSNVoS: BSONValue
    var SQIAGqNE: Int32
    var MsFvjFIM: BSONCodeWithScope
    var ZZbaMgQp: BSONRegex
    var GqcHZeLf: Int64
    var xCNVQDhK: BSONTimestamp
    var jMeFYftg: Int64
    var yltfrVvf: BSONCodeWithScope
    var NzsNfcyY: [Int32]
    var hhVNsfZZ: BSONDocument
    var OagyDZLm: Bool
    var VIJGlGfX: [Int32]
    var RBrgnptQ: Bool
    var ebfJeJwS: String
    var LQygaTou: BSONCodeWithScope
    var uNvbuffj: Date
    var SHvLWKjg: Data
    var wKCwNLSh: BSONValue
    var giVmVwzU: BSONCodeWithScope
    var BGAqpNkE: BSONValue
    var ZmCYgzpS: BSONTimestamp
    var PGiZAWYN: Date
    var wShiBppY: Bool
    var tuTaYuPG: String
    var mUXXRWFX: Bool
    var xoLWHvAD: BSONCodeWithScope
    var WqNFzMgH: Bool
    var JQbxXYUE: String
    var AZbAtRCC: BSONCodeWithScope
    var JlhVrQmD: String
    var vSvdWAnJ: Data
    var JEVgGziE: Int64
    var LCHLPrcd: BSONValue
    var fWBoraHq: BSONTimestamp
    var bxrxTsho: [Int32]
    var uhmyCSEv: BSONValue
    var rclBQefx: Int64
    var iEoENLRz: BSONDocument
    var yPKwWWxb: Bool
    var fvLXcTQB: Bool
    var DQuSYbZR: Data
    var uSbYKmdX: BSONValue
    var nLsRKLJQ: String
    var kQhDjXIO: Bool
    var duzmrLJI: BSONCodeWithScope
    var zqpnKCOL: BSONValue
    var SQOAGVaT: Date
    var WboSdRaB: Bool
    var bRaWfHwf: Int32
    var QdkSZoFx: BSONValue
    var EAYSerbF: Int64
    var IsYFQBkP: BSONValue
    var BZogAEUM: BSONRegex
    var duTaTKGF: BSONTimestamp
    var IJOIvDcw: Date
    var TtYjxGJH: Int64
    var caPGDEGj: BSONDocument
    var dNVHpBIF: [Int32]
    var hUhWCZbY: [Int32]
    var hjSPiBiC: Bool
    var UwZlNrHv: [Int32]
    var juiYRtal: Int64
    var RFhPJzgh: Int32
    var _id: BSONObjectID
    var LNpbbRfA: BSONTimestamp
}

/// A leaf of deep_bson.json.
struct DeepLeaf: Codable, Equatable {
    var rightValue: String
    var leftValue: String
}

/// Level 5 of deep_bson.json (1 is the outermost document): two subtrees.
struct DeepLevel5: Codable, Equatable {
    var right: DeepLeaf
    var left: DeepLeaf
}

/// Level 4 of deep_bson.json (1 is the outermost document): two subtrees.
struct DeepLevel4: Codable, Equatable {
    var right: DeepLevel5
    var left: DeepLevel5
}

/// Level 3 of deep_bson.json (1 is the outermost document): two subtrees.
struct DeepLevel3: Codable, Equatable {
    var right: DeepLevel4
    var left: DeepLevel4
}

/// Level 2 of deep_bson.json (1 is the outermost document): two subtrees.
struct DeepLevel2: Codable, Equatable {
    var right: DeepLevel3
    var left: DeepLevel3
}

/// Level 1 of deep_bson.json (1 is the outermost document): two subtrees.
struct DeepBench: Codable, Equatable {
    var right: DeepLevel2
    var left: DeepLevel2
}

