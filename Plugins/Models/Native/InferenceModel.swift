import Kernels

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// The inference model h of adversarial regularization (Nasr, Shokri and Houmansadr 2018): the
/// defender's own membership attack, trained during the classifier's training.
///
/// h reads a record's classifier output and label, u = [softmax(z) (K), one-hot(y) (K)], through
/// an MLP (hidden widths as configured, then one output unit a), and gives the membership
/// probability h = σ(a). (The paper feeds softmax(z) and y to separate layers before joining
/// them; one MLP on the concatenation can represent that and is what this backend uses.)
///
/// - Its training step maximises the gain `(1/2m)[Σ_members log h + Σ_reference log(1 − h)]`,
///   i.e. minimises the binary cross-entropy with target 1 for members, 0 for references.
/// - For the classifier it gives the gain on members `G = (1/m) Σ log h(u(z_r), y_r)` and its
///   gradient with respect to the classifier's logits z, through h and the softmax:
///   ∂G/∂a = (1 − σ(a)) / m; ∂G/∂p from h's backward pass; ∂G/∂z_j = p_j (∂G/∂p_j − Σ_i p_i ∂G/∂p_i).
///   log σ(a) is computed as −softplus(−a), stable for any a.
final class InferenceModel {
    let classes: Int
    let network: Network
    let optimizer: Optimizer
    let learningRate: Float
    /// ∂/∂(h's input rows) [capacity, 2K].
    private var inputGradient = Buffer<Float>(0)
    /// Binary targets of a training batch [capacity].
    private var targets = Buffer<Float>(0)
    private(set) var capacity = 0

    init(classes: Int, hiddenSizes: [Int], activation: Activation = .relu, learningRate: Double) {
        self.classes = classes
        var shape = Shape(height: 1, width: 1, channels: 2 * classes)
        var layers: [Layer] = []
        for h in hiddenSizes {
            let dense = Dense(input: shape, outputs: h, activation: activation)
            layers.append(dense)
            shape = dense.outputShape
        }
        layers.append(Dense(input: shape, outputs: 1, activation: .identity))
        network = Network(input: Shape(height: 1, width: 1, channels: 2 * classes), layers: layers)
        optimizer = Optimizer(kind: .adam, count: network.parameterCount, momentum: 0, nesterov: false, weightDecay: 0)
        self.learningRate = Float(learningRate)
    }

    func initialize(seed: UInt64) {
        network.initialize(seed: seed)
        optimizer.reset()
    }

    /// Makes room for batches of `rows` records.
    func reserve(rows: Int) {
        guard rows > capacity else { return }
        capacity = rows
        network.reserve(batch: rows)
        inputGradient = Buffer(rows * 2 * classes)
        targets = Buffer(rows)
    }

    /// h's input rows [capacity, 2K]: the network's own input batch (its backward pass reads them there).
    private var inputs: UnsafeMutablePointer<Float> { network.activations[0].pointer }

    /// Writes input rows `offset ..< offset + rows` from classifier logits [rows, K] and labels.
    func setInputs(logits z: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, offset: Int) {
        let k = classes
        for r in 0..<rows {
            let u = inputs + (offset + r) * 2 * k
            let row = z + r * k
            var m = row[0]
            for j in 1..<k { m = max(m, row[j]) }
            var sum: Float = 0
            for j in 0..<k {
                u[j] = expf(row[j] - m)
                sum += u[j]
            }
            let inv = 1 / sum
            for j in 0..<k {
                u[j] *= inv
                u[k + j] = 0
            }
            u[k + Int(labels[r])] = 1
        }
    }

    /// One step of h on the input rows set: the first `members` rows members (target 1), the
    /// next `references` rows non-members (target 0). Returns the mean binary cross-entropy,
    /// the negated gain.
    @discardableResult
    func trainStep(members: Int, references: Int) -> Double {
        let rows = members + references
        for r in 0..<rows { targets.pointer[r] = r < members ? 1 : 0 }
        let a = network.forward(batch: rows, training: true)
        let da = network.logitGradient
        var loss = 0.0
        let scale = 1 / Float(rows)
        for r in 0..<rows {
            let t = targets.pointer[r]
            // BCE with logits: softplus(a) − t·a; gradient σ(a) − t.
            loss += Double(Self.softplus(a[r]) - t * a[r])
            da[r] = scale * (Self.sigmoid(a[r]) - t)
        }
        network.backward(batch: rows)
        optimizer.step(
            network.parameters.pointer, network.gradients.pointer, count: network.parameterCount, lr: learningRate)
        return loss / Double(rows)
    }

    /// The gain on the first `rows` input rows (members), G = (1/rows) Σ log h, and `weight`·∂G/∂z
    /// added to `dz` [rows, K] (the classifier's logit gradient). Leaves h's weights unchanged
    /// (its gradient buffer is overwritten).
    @discardableResult
    func addGainGradient(rows: Int, weight: Float, into dz: UnsafeMutablePointer<Float>) -> Double {
        let k = classes
        let a = network.forward(batch: rows, training: true)
        let da = network.logitGradient
        var gain = 0.0
        let scale = 1 / Float(rows)
        for r in 0..<rows {
            gain -= Double(Self.softplus(-a[r]))
            da[r] = scale * (1 - Self.sigmoid(a[r]))
        }
        network.backward(batch: rows, inputGradient: inputGradient.pointer)
        for r in 0..<rows {
            let p = inputs + r * 2 * k
            let dp = inputGradient.pointer + r * 2 * k
            var dot: Float = 0
            for j in 0..<k { dot += p[j] * dp[j] }
            let g = dz + r * k
            for j in 0..<k { g[j] += weight * p[j] * (dp[j] - dot) }
        }
        return gain / Double(rows)
    }

    /// Membership probabilities h of the first `rows` input rows, in inference mode.
    func probabilities(rows: Int) -> [Float] {
        let a = network.forward(batch: rows, training: false)
        return (0..<rows).map { Self.sigmoid(a[$0]) }
    }

    static func sigmoid(_ a: Float) -> Float { a >= 0 ? 1 / (1 + expf(-a)) : expf(a) / (1 + expf(a)) }
    /// log(1 + e^a), without overflow.
    static func softplus(_ a: Float) -> Float { max(a, 0) + log1pf(expf(-abs(a))) }
}
