/** A training configuration that cannot be trained as asked (a loss with a parameter it does not take, …). */
export class TrainConfigError extends Error {
  override name = 'TrainConfigError';
}
