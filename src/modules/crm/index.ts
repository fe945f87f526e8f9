/**
 * The CRM module's public face: contacts (one per email per shop), their fields and consent, the timeline (and the
 * event consumer that writes it), notes and tasks, scores (RFM, lead score) and their rules, segments, privacy
 * (export, erase).
 */
export * from './contacts.service.ts';
export * from './timeline.service.ts';
export * from './scores.service.ts';
export * from './segments.service.ts';
export * from './privacy.service.ts';
export type { ContactFilter } from './crm.repository.ts';
export * from './marketing.service.ts';
export * from './import.service.ts';
