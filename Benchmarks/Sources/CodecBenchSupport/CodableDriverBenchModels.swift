public import BSONCodec

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

// Swift models of the driver-benchmark documents (Data/driver-bench/), for the Codable
// benchmarks: the models of Tests/BSONCodecTests/CodableDriverBenchModels.swift, made public
// (change both together). FlatBench and FullBench have one stored property per field, in
// document order, with the Swift type matching each field's BSON type, except that `_id`
// comes first here, where pymongo writes it and where DriverBenchData puts it, so that the
// models encode to exactly the benchmark's bytes; DeepBench and its levels model the
// binary tree of right/left documents, six levels deep.

/// The flat_bson.json document: 145 fields.
public struct FlatBench: Codable, Equatable {
    public var _id: BSONObjectID
    public var pfZSRHnn: Double
    public var XeRkAyCq: Int32
    public var oRWMNJTE: String
    public var hnVgYIQi: String
    public var cxOHMeDJ: String
    public var MeUYSkPS: String
    public var IsorvnMR: Bool
    public var vvUeXASH: Bool
    public var zEgGhhZf: Bool
    public var SUWXijHT: Int32
    public var HicJbMpj: Bool
    public var ijwXMKqI: Int32
    public var RemSsnnR: Bool
    public var McpOBmaR: String
    public var ddVenEkK: Int32
    public var CqCssWxW: String
    public var taoNnQYY: Double
    public var MXMxLVBk: Int32
    public var yeTUgNrU: Bool
    public var vkEDWgmN: String
    public var TgSwBbgp: Double
    public var FDYGeSiR: Int64
    public var xrzGnsEK: String
    public var VVvwKVRG: Int32
    public var TmUnYUrv: Int64
    public var OCsIhHxq: String
    public var pKjOghFa: Bool
    public var VCSKFCoE: Int64
    public var yKfZnGKG: Double
    public var UKwbAKGw: Int32
    public var iFFGfTXc: String
    public var RwAVVKHM: String
    public var AtWNZJXa: Int64
    public var XxvXmHiQ: Double
    public var wmDLUkXt: Int64
    public var zSYvADVf: Int64
    public var VcCSqSmp: Bool
    public var jmglLvAS: String
    public var ZmtEJFSO: String
    public var MqfkBZJF: Int32
    public var doshbrpF: Int64
    public var jWaFvVAz: Double
    public var LVNIFCYm: Bool
    public var VplFgewF: Int32
    public var eRTIdIJR: String
    public var zswQbWEI: Int64
    public var obcwwqWZ: Double
    public var vlSZaxCV: String
    public var QobifTeZ: String
    public var XXKbyIXG: Int64
    public var dNSuxlSU: String
    public var HrUPbFHD: Double
    public var XEBqaXkB: Double
    public var xWpeGNjl: Int64
    public var aicoMxZq: Bool
    public var LngvlnTV: Double
    public var WYJdGJLu: String
    public var TRpgnInA: Bool
    public var JhImQOkw: Bool
    public var KMKBtlov: Int64
    public var gySFZeAE: Double
    public var RPsQhgRD: String
    public var rmzUAgmk: String
    public var Ibrdrtgg: String
    public var WmMOvgFc: Bool
    public var KnhgtAOJ: String
    public var qrJASGzU: Bool
    public var egxZaSsw: Bool
    public var cVjWCrlu: Int64
    public var OfTmCvDx: String
    public var MNuWZMLP: Bool
    public var JrJzKiIx: String
    public var JzgaUWVG: Double
    public var WHSQVLKG: Bool
    public var SYtZkQbC: String
    public var nBKWWUWk: Int32
    public var Rbxpznea: Int32
    public var tIJEYSYM: String
    public var dHsYhRbV: String
    public var iwfbMdcv: Double
    public var dCLfYqqM: Int32
    public var ahFCBmqT: Int64
    public var TkXMwZlU: Int64
    public var LUPqMOHS: String
    public var hwHOTmmW: Double
    public var kfvcFmKw: Bool
    public var bkuaZWRT: Int64
    public var nKhiSITP: Int32
    public var CYhSCkWB: String
    public var vSLTtfDF: String
    public var CEtYKsdd: String
    public var dVkWIafN: Double
    public var HQiykral: Double
    public var YDHWnEXV: String
    public var pacTBmxE: Double
    public var ddPdLgGg: Int32
    public var xWUlYggc: String
    public var dpbwfSRb: String
    public var AgYYbYPr: Int32
    public var wjfyueDC: Bool
    public var fEheUtop: String
    public var pOMEwSod: Int32
    public var BwTXiovJ: Int32
    public var TDUzNJiH: String
    public var KyxOoCqS: Int32
    public var zMCFzcWY: String
    public var FpduyhQP: Bool
    public var JXMyYkfb: Double
    public var yXSBbPeT: String
    public var wjAWaOog: String
    public var cepcgozk: String
    public var DQBQcQFj: Int64
    public var sYtnozSc: Int64
    public var BBqZInWV: String
    public var dtywOLeD: String
    public var WoFGfdvb: String
    public var zDzSGNnW: Bool
    public var ReOZakjB: Double
    public var uMDWqLMf: String
    public var GiAHzFII: Int32
    public var UtbwOKLt: Int64
    public var DJsnHZIC: Int32
    public var SqNvlUZF: Int64
    public var PvfnpsMV: Int32
    public var UpdMADoN: Bool
    public var jbUymqiB: String
    public var qHzOMXeT: Int32
    public var XGxlHrXf: Bool
    public var sGWJTAcT: Bool
    public var VtzeOlCT: String
    public var mlfZVfVT: Double
    public var HVHyetUM: Int64
    public var gErhgZTh: String
    public var omnwvBbA: Int32
    public var AgSNVyBb: Int64
    public var CDIGOuIZ: Double
    public var CFujXoob: Int32
    public var reiKnuza: Int64
    public var PjKiuWnQ: Double
    public var pQyCJaEd: Double
    public var xZOksssj: Int64
    public var AMQrGQmu: Int64
    public var HQeCoswW: Double
    public var pPtPsgRl: String
}

/// The full_bson.json document: 91 fields.
public struct FullBench: Codable, Equatable {
    public var _id: BSONObjectID
    public var KpnXZaDQ: Int32
    public var BOQAeydE: Data
    public var kVDldkCH: Int64
    public var olUSRZtj: BSONDocument
    public var ayrwiTMT: BSONValue
    public var nyYyaFrV: Int32
    public var zlVZQePF: Bool
    public var iRVlyXVm: Int64
    public var lyWwkZGg: BSONCodeWithScope
    public var DfzEYsYW: Bool
    public var VFKRjaPW: BSONValue
    public var pDeYcUIu: Date
    public var kqKTGXUm: Data
    public var iNbJUZuj: BSONCodeWithScope
    public var buEAkIge: Date
    public var NAKOhrML: Int32
    public var CAWdqfmI: Int64
    public var hAcOFtfN: Data
    public var qPDeTZWq: Int64
    public var ARdpUnvr: BSONCodeWithScope
    public var geaenijV: BSONTimestamp
    public var EuKkhmHw: BSONValue
    public var kcVXzXHn: BSONCodeWithScope
    public var dSMWIFLD: Int64
    public var UuDsAOGk: BSONCodeWithScope
    public var KUVCyPFv: String
    public var kFaSNVoS: BSONValue
    public var SQIAGqNE: Int32
    public var MsFvjFIM: BSONCodeWithScope
    public var ZZbaMgQp: BSONRegex
    public var GqcHZeLf: Int64
    public var xCNVQDhK: BSONTimestamp
    public var jMeFYftg: Int64
    public var yltfrVvf: BSONCodeWithScope
    public var NzsNfcyY: [Int32]
    public var hhVNsfZZ: BSONDocument
    public var OagyDZLm: Bool
    public var VIJGlGfX: [Int32]
    public var RBrgnptQ: Bool
    public var ebfJeJwS: String
    public var LQygaTou: BSONCodeWithScope
    public var uNvbuffj: Date
    public var SHvLWKjg: Data
    public var wKCwNLSh: BSONValue
    public var giVmVwzU: BSONCodeWithScope
    public var BGAqpNkE: BSONValue
    public var ZmCYgzpS: BSONTimestamp
    public var PGiZAWYN: Date
    public var wShiBppY: Bool
    public var tuTaYuPG: String
    public var mUXXRWFX: Bool
    public var xoLWHvAD: BSONCodeWithScope
    public var WqNFzMgH: Bool
    public var JQbxXYUE: String
    public var AZbAtRCC: BSONCodeWithScope
    public var JlhVrQmD: String
    public var vSvdWAnJ: Data
    public var JEVgGziE: Int64
    public var LCHLPrcd: BSONValue
    public var fWBoraHq: BSONTimestamp
    public var bxrxTsho: [Int32]
    public var uhmyCSEv: BSONValue
    public var rclBQefx: Int64
    public var iEoENLRz: BSONDocument
    public var yPKwWWxb: Bool
    public var fvLXcTQB: Bool
    public var DQuSYbZR: Data
    public var uSbYKmdX: BSONValue
    public var nLsRKLJQ: String
    public var kQhDjXIO: Bool
    public var duzmrLJI: BSONCodeWithScope
    public var zqpnKCOL: BSONValue
    public var SQOAGVaT: Date
    public var WboSdRaB: Bool
    public var bRaWfHwf: Int32
    public var QdkSZoFx: BSONValue
    public var EAYSerbF: Int64
    public var IsYFQBkP: BSONValue
    public var BZogAEUM: BSONRegex
    public var duTaTKGF: BSONTimestamp
    public var IJOIvDcw: Date
    public var TtYjxGJH: Int64
    public var caPGDEGj: BSONDocument
    public var dNVHpBIF: [Int32]
    public var hUhWCZbY: [Int32]
    public var hjSPiBiC: Bool
    public var UwZlNrHv: [Int32]
    public var juiYRtal: Int64
    public var RFhPJzgh: Int32
    public var LNpbbRfA: BSONTimestamp
}

/// A leaf of deep_bson.json.
public struct DeepLeaf: Codable, Equatable {
    public var rightValue: String
    public var leftValue: String
}

/// Level 5 of deep_bson.json (1 is the outermost document): two subtrees.
public struct DeepLevel5: Codable, Equatable {
    public var right: DeepLeaf
    public var left: DeepLeaf
}

/// Level 4 of deep_bson.json (1 is the outermost document): two subtrees.
public struct DeepLevel4: Codable, Equatable {
    public var right: DeepLevel5
    public var left: DeepLevel5
}

/// Level 3 of deep_bson.json (1 is the outermost document): two subtrees.
public struct DeepLevel3: Codable, Equatable {
    public var right: DeepLevel4
    public var left: DeepLevel4
}

/// Level 2 of deep_bson.json (1 is the outermost document): two subtrees.
public struct DeepLevel2: Codable, Equatable {
    public var right: DeepLevel3
    public var left: DeepLevel3
}

/// Level 1 of deep_bson.json (1 is the outermost document): two subtrees.
public struct DeepBench: Codable, Equatable {
    public var right: DeepLevel2
    public var left: DeepLevel2
}

