/**
 * Optimisers over flat float64 parameter vectors for the LSA reference trainers: Adam (Kingma & Ba,
 * with PyTorch's L2-style weight_decay added to the gradient, as in Wang et al.'s training code) and
 * plain gradient descent (a forward-Euler discretisation of gradient flow, the dynamics analysed by
 * Liang & Lai).
 */

export interface Optimizer {
  /** In-place update of params from grad. */
  step(params: Float64Array, grad: Float64Array): void;
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class Adam implements Optimizer {
  private m: Float64Array;
  private v: Float64Array;
  private t = 0;
  constructor(
    size: number,
    private readonly o: AdamOptions,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }
  step(params: Float64Array, grad: Float64Array): void {
    const b1 = this.o.beta1 ?? 0.9;
    const b2 = this.o.beta2 ?? 0.999;
    const eps = this.o.eps ?? 1e-8;
    const wd = this.o.weightDecay ?? 0;
    this.t++;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    for (let i = 0; i < params.length; i++) {
      const g = grad[i] + wd * params[i];
      this.m[i] = b1 * this.m[i] + (1 - b1) * g;
      this.v[i] = b2 * this.v[i] + (1 - b2) * g * g;
      params[i] -= (this.o.lr * (this.m[i] / c1)) / (Math.sqrt(this.v[i] / c2) + eps);
    }
  }
}

export class GradientDescent implements Optimizer {
  constructor(private readonly lr: number) {}
  step(params: Float64Array, grad: Float64Array): void {
    for (let i = 0; i < params.length; i++) params[i] -= this.lr * grad[i];
  }
}

export function makeOptimizer(kind: "adam" | "gd", size: number, lr: number, weightDecay = 0, eps?: number): Optimizer {
  return kind === "adam" ? new Adam(size, { lr, weightDecay, eps }) : new GradientDescent(lr);
}
