import type { ModelFailure } from '../lib/model-calls.ts';
import type { AssistantAnswer } from './answer.ts';
import { answerWithRules, knownServices, recognise } from './rules.ts';
import type { ToolRunner } from './runner.ts';
import type { ToolContext } from './tool.ts';

/** What the rules say the assistant can answer without the model. */
const RECOGNISED = ['what is wrong with <service>?', 'what changed (in <service>) today / in the last 6 hours?', 'which incidents are open?'];

/**
 * The model could not answer: the questions the rules recognise are answered
 * by running the matching tools (through the same runner, so budgets and the
 * trace hold) and summarising with rules; the answer says it came from the
 * rules and why. Anything else gets a plain "needs the model".
 */
export async function answerWithoutModel(
  question: string,
  ctx: ToolContext,
  runner: ToolRunner,
  failure: ModelFailure,
): Promise<{ recognised: boolean; answer: AssistantAnswer }> {
  const intent = recognise(question, await knownServices(ctx));
  if (intent) {
    const answer = await answerWithRules(intent, ctx, (name, args) => runner.run(name, args));
    return { recognised: true, answer: { ...answer, summary: `${answer.summary} (Answered by rules: the model is unavailable — ${failure.message}.)` } };
  }
  return {
    recognised: false,
    answer: {
      summary: `This question needs the model, which is unavailable (${failure.message}). Without it I can answer: ${RECOGNISED.join('; ')}`,
      findings: [],
      next_steps: ['Ask again once the model is back (OLLAMA_HOST), or ask one of the questions above.'],
      confidence: 0,
    },
  };
}
