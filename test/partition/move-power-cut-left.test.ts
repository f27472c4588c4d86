// Power cuts during a move (see move-power-cut.ts): the left kind of overlapping move.
import { describe } from 'vitest';
import { powerCutTrials } from './move-power-cut.js';

describe('move under power cuts', () => powerCutTrials(0));
