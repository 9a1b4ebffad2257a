package dev.lodestar.bench.routing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What the load generator sends: each arrival asks its workload for the next chat request. Prompt lengths
 * are in the simulator's tokens: the generated words have at most six letters, so each word and the space
 * after it is one token (simulator's tokenizer: runs of up to six letters, with the whitespace after
 * them); the chat template adds a few tokens per message.
 *
 * <p>Workloads are deterministic from their seed, so every routing configuration gets the same prompts in
 * the same order (arrival times come from a separate seeded generator). Implementations are thread-safe.
 */
public interface Workload {
    /** Name in results: {@code shared-prefix}, {@code multi-turn} or {@code random}. */
    String name();

    /** One line describing the sizes, for the report. */
    String description();

    /** The next request to send. */
    ChatRequest next();

    /** Called once per request when it ended: its generated text, or null when it failed. */
    default void completed(ChatRequest request, String generated) {
    }

    /** A chat request: messages as (role, content) pairs, and how many tokens to generate. */
    record ChatRequest(List<Message> messages, int maxTokens, Object state) {
        public int promptWords() {
            int words = 0;
            for (Message message : messages) {
                words += Words.count(message.content());
            }
            return words;
        }
    }

    record Message(String role, String content) {
    }

    /**
     * llm-d's shared-prefix workload (inference-perf {@code shared_prefix}): {@code groups} system prompts,
     * each with {@code usersPerGroup} distinct questions; a request is a uniformly random (group, user)
     * pair, so a user's question repeats too.
     */
    static Workload sharedPrefix(long seed, int groups, int usersPerGroup, int systemPromptTokens,
                                 int questionTokens, int outputTokens) {
        return new SharedPrefix(seed, groups, usersPerGroup, systemPromptTokens, questionTokens, outputTokens);
    }

    /**
     * Multi-turn chat: {@code conversations} sessions live at once, each with its own system prompt; an
     * arrival continues a random idle session with a new user message (the history, including the
     * assistant's earlier answers, is resent, as a chat client does), and a session that reached
     * {@code turns} is replaced by a new one. When every live session waits for an answer, the arrival
     * starts an extra session.
     */
    static Workload multiTurn(long seed, int conversations, int turns, int systemPromptTokens, int messageTokens,
                              int outputTokens) {
        return new MultiTurn(seed, conversations, turns, systemPromptTokens, messageTokens, outputTokens);
    }

    /** No sharing: every prompt is fresh random words. */
    static Workload random(long seed, int promptTokens, int outputTokens) {
        return new RandomPrompts(seed, promptTokens, outputTokens);
    }

    /** Words of at most six lowercase letters (one simulator token each, with the space after them). */
    final class Words {
        private static final String[] VOCABULARY = ("route cache block token batch queue prefix decode model server "
                + "gate weight tensor layer kernel memory stream answer prompt system user quick brown fox jumps "
                + "over lazy dog river stone cloud light sound water field north south east west alpha beta gamma "
                + "delta omega spring summer autumn winter paper glass metal wood fire earth apple grape lemon "
                + "melon peach plum berry olive onion bread cheese butter honey sugar salt pepper table chair "
                + "house door window roof floor wall garden tree flower grass leaf root seed bird horse cow sheep "
                + "goat tiger lion bear wolf fox eagle whale shark crab snail moon star sun rain snow wind storm "
                + "hill valley ocean lake island desert forest city town road bridge tower castle king queen "
                + "knight farmer smith baker doctor pilot sailor singer poet judge green blue red yellow purple "
                + "orange black white silver gold iron copper zinc carbon oxygen atom cell gene brain heart lung "
                + "bone blood nerve skin hand foot eye ear nose mouth tooth hair voice song dance game sport ball "
                + "race goal team coach match score point line circle square angle graph number letter word "
                + "story book page title author reader note idea plan task job work rest sleep dream hope fear "
                + "joy anger calm mind soul time day night week month year hour minute second past future now").split(" ");

        private Words() {
        }

        /** {@code count} random words separated by single spaces. */
        static String of(SplittableRandom random, int count) {
            StringBuilder text = new StringBuilder(count * 6);
            for (int i = 0; i < count; i++) {
                if (i > 0) {
                    text.append(' ');
                }
                text.append(VOCABULARY[random.nextInt(VOCABULARY.length)]);
            }
            return text.toString();
        }

        static int count(String text) {
            String trimmed = text.strip();
            return trimmed.isEmpty() ? 0 : trimmed.split("\\s+").length;
        }

        static int vocabularySize() {
            return VOCABULARY.length;
        }
    }

    final class SharedPrefix implements Workload {
        private final int groups;
        private final int usersPerGroup;
        private final int systemPromptTokens;
        private final int questionTokens;
        private final int outputTokens;
        private final List<String> systemPrompts = new ArrayList<>();
        private final List<List<String>> questions = new ArrayList<>();
        private final SplittableRandom random;

        SharedPrefix(long seed, int groups, int usersPerGroup, int systemPromptTokens, int questionTokens,
                     int outputTokens) {
            this.groups = groups;
            this.usersPerGroup = usersPerGroup;
            this.systemPromptTokens = systemPromptTokens;
            this.questionTokens = questionTokens;
            this.outputTokens = outputTokens;
            SplittableRandom text = new SplittableRandom(seed);
            for (int g = 0; g < groups; g++) {
                // The group number first, so no two system prompts share even their first block.
                systemPrompts.add("group " + g + " " + Words.of(text, systemPromptTokens - 2));
                List<String> users = new ArrayList<>();
                for (int u = 0; u < usersPerGroup; u++) {
                    users.add(Words.of(text, questionTokens));
                }
                questions.add(users);
            }
            this.random = new SplittableRandom(seed * 31 + 7);
        }

        @Override
        public String name() {
            return "shared-prefix";
        }

        @Override
        public String description() {
            return String.format(Locale.ROOT, "%d groups x %d users, system prompt %d tokens, question %d tokens, "
                    + "output %d tokens", groups, usersPerGroup, systemPromptTokens, questionTokens, outputTokens);
        }

        @Override
        public synchronized ChatRequest next() {
            int group = random.nextInt(groups);
            int user = random.nextInt(usersPerGroup);
            return new ChatRequest(List.of(new Message("system", systemPrompts.get(group)),
                    new Message("user", questions.get(group).get(user))), outputTokens, group);
        }
    }

    final class MultiTurn implements Workload {
        private final long seed;
        private final int conversations;
        private final int turns;
        private final int systemPromptTokens;
        private final int messageTokens;
        private final int outputTokens;
        private final SplittableRandom random;
        private final List<Session> idle = new ArrayList<>();
        private final Deque<Session> spare = new ArrayDeque<>();
        private int started;

        MultiTurn(long seed, int conversations, int turns, int systemPromptTokens, int messageTokens,
                  int outputTokens) {
            this.seed = seed;
            this.conversations = conversations;
            this.turns = turns;
            this.systemPromptTokens = systemPromptTokens;
            this.messageTokens = messageTokens;
            this.outputTokens = outputTokens;
            this.random = new SplittableRandom(seed * 31 + 11);
            for (int i = 0; i < conversations; i++) {
                idle.add(newSession());
            }
        }

        private Session newSession() {
            int id = started++;
            SplittableRandom text = new SplittableRandom(seed * 1_000_003L + id);
            Session session = new Session(id, text);
            session.messages.add(new Message("system", "session " + id + " " + Words.of(text, systemPromptTokens - 2)));
            return session;
        }

        @Override
        public String name() {
            return "multi-turn";
        }

        @Override
        public String description() {
            return String.format(Locale.ROOT, "%d live conversations of %d turns, system prompt %d tokens, "
                    + "user message %d tokens, output %d tokens", conversations, turns, systemPromptTokens,
                    messageTokens, outputTokens);
        }

        @Override
        public synchronized ChatRequest next() {
            Session session = idle.isEmpty()
                    ? (spare.isEmpty() ? newSession() : spare.pop())
                    : idle.remove(random.nextInt(idle.size()));
            session.messages.add(new Message("user", Words.of(session.text, messageTokens)));
            session.turn++;
            return new ChatRequest(List.copyOf(session.messages), outputTokens, session);
        }

        @Override
        public synchronized void completed(ChatRequest request, String generated) {
            Session session = (Session) request.state();
            if (generated == null) {
                // A failed turn: the client retries it with the next arrival, as a user would.
                session.messages.removeLast();
                session.turn--;
            } else {
                session.messages.add(new Message("assistant", generated));
            }
            if (session.turn >= turns) {
                session = newSession();
            }
            if (idle.size() < conversations) {
                idle.add(session);
            } else {
                spare.push(session);
            }
        }

        private static final class Session {
            final int id;
            final SplittableRandom text;
            final List<Message> messages = new ArrayList<>();
            int turn;

            Session(int id, SplittableRandom text) {
                this.id = id;
                this.text = text;
            }
        }
    }

    final class RandomPrompts implements Workload {
        private final int promptTokens;
        private final int outputTokens;
        private final SplittableRandom random;
        private long sequence;

        RandomPrompts(long seed, int promptTokens, int outputTokens) {
            this.promptTokens = promptTokens;
            this.outputTokens = outputTokens;
            this.random = new SplittableRandom(seed);
        }

        @Override
        public String name() {
            return "random";
        }

        @Override
        public String description() {
            return String.format(Locale.ROOT, "fresh random prompts of %d tokens (no sharing), output %d tokens",
                    promptTokens, outputTokens);
        }

        @Override
        public synchronized ChatRequest next() {
            // A unique first word, so not even the first block is shared.
            return new ChatRequest(List.of(new Message("user", "request " + (sequence++) + " "
                    + Words.of(random, promptTokens - 2))), outputTokens, null);
        }
    }
}
