// Times PLDAccountant.epsilon (Sources/Kernels, compiled into this file's executable by
// run.sh) on the points given as "sigma q steps" lines on stdin; prints
// "sigma q steps epsilon seconds" per point (median of `ROUNDS` runs, default 3).
import Foundation

let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "3") ?? 3
while let line = readLine() {
    let f = line.split(separator: " ").compactMap { Double($0) }
    guard f.count == 3 else { continue }
    var times: [Double] = []
    var eps = 0.0
    for _ in 0..<rounds {
        let t0 = Date()
        eps = PLDAccountant.epsilon(q: f[1], sigma: f[0], steps: Int(f[2]), delta: 1e-5).epsilon
        times.append(Date().timeIntervalSince(t0))
    }
    times.sort()
    print(f[0], f[1], Int(f[2]), eps, times[times.count / 2])
}
