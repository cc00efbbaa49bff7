"""The LSTM language model: embedding -> n-layer LSTM -> projection -> output tied to the embedding.

The recurrent state is passed in and returned, never stored on the module (as in
pytorch/examples' word_language_model), so one model can serve any number of documents.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (n_layers, batch, hidden)


@dataclass(frozen=True)
class LSTMConfig:
    vocab_size: int
    embed_dim: int = 256
    hidden_dim: int = 512
    n_layers: int = 2
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


class LSTMLanguageModel(nn.Module):
    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden_dim,
            config.n_layers,
            dropout=config.dropout if config.n_layers > 1 else 0.0,
            batch_first=True,
        )
        # Projecting back to the embedding size lets the output layer share the embedding matrix:
        # fewer parameters and better perplexity for a small model (Press & Wolf, 2017).
        self.projection = nn.Linear(config.hidden_dim, config.embed_dim)
        self.output = nn.Linear(config.embed_dim, config.vocab_size)
        self.output.weight = self.embedding.weight
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.normal_(self.embedding.weight, std=0.05)
        nn.init.zeros_(self.output.bias)
        for name, p in self.lstm.named_parameters():
            if name.startswith("bias"):
                nn.init.zeros_(p)
                h = self.config.hidden_dim
                p.data[h : 2 * h] = 1.0  # forget-gate bias 1: remember by default

    def init_state(self, batch: int = 1, device: torch.device | str | None = None) -> State:
        shape = (self.config.n_layers, batch, self.config.hidden_dim)
        device = device or self.embedding.weight.device
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """ids (B, T) -> logits (B, T, V), new state."""
        if state is None:
            state = self.init_state(ids.shape[0], ids.device)
        x = self.dropout(self.embedding(ids))  # (B, T, E)
        y, state = self.lstm(x, state)  # (B, T, H)
        logits = self.output(self.dropout(self.projection(self.dropout(y))))  # (B, T, V)
        return logits, state

    def advance(self, ids: torch.Tensor, state: State) -> State:
        """Only the new state after ids (B, T): feeding context needs no logits (the output layer is ~40% of the work)."""
        _, state = self.lstm(self.embedding(ids), state)
        return state

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def repackage_state(state: State) -> State:
    """Detach the state from the graph that made it: truncated back-propagation through time."""
    return tuple(s.detach() for s in state)  # type: ignore[return-value]
