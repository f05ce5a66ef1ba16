import Foundation
import Logging
import PluginABI
import PluginKit
import Testing

@testable import AuditCore

/// The results service `mia.host.results/1`: what an attack records reaches the host, through the
/// C table a plugin sees and through PluginKit's `HostServices.report`.
@Suite struct HostResultsTests {
    @Test func recordedValuesReachTheBridge() throws {
        let bridge = HostBridge(label: "t", logger: Logger(label: "t"), cancellation: CancellationFlag())
        let host = bridge.table.pointee
        let raw = try #require(MIA_HOST_RESULTS_V1.withCString { host.get_extension!(host.context, $0) })
        let table = raw.assumingMemoryBound(to: mia_host_results_v1_t.self).pointee
        #expect(Int(table.struct_size) == MemoryLayout<mia_host_results_v1_t>.size)
        "offline_a".withCString { table.record!(table.context, $0, 0.25) }
        "offline_a".withCString { table.record!(table.context, $0, 0.42) }  // the last value wins
        #expect(HostServices(bridge.table).report("auc", 0.61))
        #expect(bridge.reportedValues == ["offline_a": 0.42, "auc": 0.61])
        // Without a host, nothing to report to.
        #expect(!HostServices.standalone.report("x", 1))
    }
}
