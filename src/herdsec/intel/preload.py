"""What the hub's second processes need, made ready once in the fork server (see ``core.workers``) and shared by
every child it forks: the preparing and converting modules imported and the shipped warninglists compiled (about
0.3 s that no job then pays). Imported for that side effect only."""

from herdsec.intel import prepare
from herdsec.intel.misp import parallel
from herdsec.ioc.warninglists import shipped

shipped()

__all__ = ["parallel", "prepare"]
