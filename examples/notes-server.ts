#!/usr/bin/env node
/**
 * Example stdio MCP server for the README demo, built with the official SDK.
 *
 * An in-memory notebook: add, list, search and delete notes; read them as resources
 * (`notes://index`, `notes://{title}`); and a `summarize_notes` prompt.
 *
 *   node dist/examples/notes-server.js
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import * as z from 'zod';

interface Note {
  title: string;
  body: string;
  createdAt: string;
}

const notes = new Map<string, Note>();

function putNote(title: string, body: string): Note {
  const note: Note = { title, body, createdAt: new Date().toISOString() };
  notes.set(title, note);
  return note;
}

putNote(
  'welcome',
  'This is an in-memory notes server. Add notes with add_note, find them with search_notes, ' +
    'and read them as resources at notes://<title>.',
);

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
const noteUri = (title: string) => `notes://${encodeURIComponent(title)}`;
const render = (n: Note) => `# ${n.title}\n\n${n.body}\n`;

function countWords(s: string): number {
  const words = s.trim().match(/\S+/g);
  return words ? words.length : 0;
}

const server = new McpServer(
  { name: 'notes', version: '1.0.0' },
  {
    instructions:
      'A small in-memory notebook. Use add_note to store notes, list_notes / search_notes to find them, ' +
      'and the notes:// resources to read them.',
  },
);

server.registerTool(
  'add_note',
  {
    title: 'Add note',
    description: 'Create a note, or replace the note with the same title.',
    inputSchema: {
      title: z.string().min(1).describe('Unique title'),
      body: z.string().describe('Note text'),
    },
  },
  ({ title, body }) => {
    const existed = notes.has(title);
    putNote(title, body);
    server.sendResourceListChanged();
    return text(`${existed ? 'Updated' : 'Added'} note "${title}" (${countWords(body)} words).`);
  },
);

server.registerTool(
  'list_notes',
  { title: 'List notes', description: 'List all note titles, oldest first.' },
  () => {
    if (notes.size === 0) return text('No notes yet.');
    return text([...notes.values()].map((n) => `- ${n.title} (${countWords(n.body)} words)`).join('\n'));
  },
);

server.registerTool(
  'search_notes',
  {
    title: 'Search notes',
    description: 'Case-insensitive substring search over note titles and bodies.',
    inputSchema: { query: z.string().min(1).describe('Text to look for') },
  },
  ({ query }) => {
    const q = query.toLowerCase();
    const hits = [...notes.values()].filter(
      (n) => n.title.toLowerCase().includes(q) || n.body.toLowerCase().includes(q),
    );
    if (hits.length === 0) return text(`No notes match "${query}".`);
    return text(hits.map((n) => `## ${n.title}\n${n.body}`).join('\n\n'));
  },
);

server.registerTool(
  'delete_note',
  {
    title: 'Delete note',
    description: 'Delete the note with the given title.',
    inputSchema: { title: z.string().describe('Title of the note to delete') },
  },
  ({ title }) => {
    if (!notes.delete(title)) {
      return { content: [{ type: 'text' as const, text: `No note titled "${title}".` }], isError: true };
    }
    server.sendResourceListChanged();
    return text(`Deleted note "${title}".`);
  },
);

server.registerTool(
  'word_count',
  {
    title: 'Word count',
    description: 'Count the words, characters and lines of a text.',
    inputSchema: { text: z.string() },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  ({ text: input }) => {
    const lines = input === '' ? 0 : input.split(/\r?\n/).length;
    return text(`${countWords(input)} words, ${input.length} characters, ${lines} lines`);
  },
);

server.registerResource(
  'index',
  'notes://index',
  { title: 'Notes index', description: 'Markdown list of all notes', mimeType: 'text/markdown' },
  (uri) => ({
    contents: [
      {
        uri: uri.href,
        mimeType: 'text/markdown',
        text:
          notes.size === 0
            ? 'No notes yet.\n'
            : [...notes.values()].map((n) => `- [${n.title}](${noteUri(n.title)})`).join('\n') + '\n',
      },
    ],
  }),
);

server.registerResource(
  'note',
  new ResourceTemplate('notes://{title}', {
    list: () => ({
      resources: [...notes.values()].map((n) => ({
        uri: noteUri(n.title),
        name: n.title,
        mimeType: 'text/markdown',
      })),
    }),
    complete: {
      title: (value) => [...notes.keys()].filter((t) => t.toLowerCase().startsWith(value.toLowerCase())),
    },
  }),
  { title: 'Note', description: 'A single note by title', mimeType: 'text/markdown' },
  (uri, { title }) => {
    const raw = Array.isArray(title) ? title[0] : title;
    const key = decodeURIComponent(raw ?? '');
    const note = notes.get(key);
    if (!note) throw new Error(`No note titled "${key}"`);
    return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: render(note) }] };
  },
);

server.registerPrompt(
  'summarize_notes',
  {
    title: 'Summarize notes',
    description: 'Ask the model to summarize every note (optionally in a given style).',
    argsSchema: { style: z.string().optional().describe('e.g. "bullet points", "one paragraph"') },
  },
  ({ style }) => {
    const all = [...notes.values()].map(render).join('\n');
    return {
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text:
              `Summarize the following notes${style ? ` as ${style}` : ''}.\n\n` +
              (all === '' ? '(there are no notes)' : all),
          },
        },
      ],
    };
  },
);

const transport = new StdioServerTransport();
await server.connect(transport);
process.stdin.on('end', () => {
  void server.close().finally(() => process.exit(0));
});
console.error('[notes] MCP server running on stdio');
